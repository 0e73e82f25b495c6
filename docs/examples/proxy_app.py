from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_google_flow import GoogleFlow


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    # Behind one reverse proxy (nginx, a load balancer) that terminates https:
    # trust its X-Forwarded-Proto and X-Forwarded-Host, so url_for(_external=True)
    # builds https://app.example.com/oauth2callback instead of http://10.0.0.5:8000/...
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    GoogleFlow(app)
    return app


# Or, independent of any header, name the redirect URI explicitly:
EXPLICIT = {"GOOGLE_FLOW_REDIRECT_URI": "https://app.example.com/oauth2callback"}
