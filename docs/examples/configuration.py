from flask import Flask

from flask_google_flow import GoogleFlow


def create_app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="change me",
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
        GOOGLE_SCOPES="openid email profile",  # a list works too
        GOOGLE_FLOW_EXTRA_SCOPES=["https://www.googleapis.com/auth/drive.readonly"],
        GOOGLE_FLOW_PENDING_TTL="300",  # strings from the environment are parsed
    )
    app.config.from_prefixed_env()  # e.g. FLASK_GOOGLE_FLOW_HOSTED_DOMAIN=example.com
    # The same as config keys, as arguments (arguments win over config):
    GoogleFlow(app, url_prefix="/auth", default_next="/home")
    return app
