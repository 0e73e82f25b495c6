from flask import Blueprint, Flask

from flask_google_flow import GoogleFlow

google_flow = GoogleFlow()  # one extension object can serve several apps


def create_app(config, nested=False):
    app = Flask(__name__)
    app.config.update(config)
    if not nested:
        # The simple way: every route under a prefix -> /auth/authorize, /auth/oauth2callback
        app.config["GOOGLE_FLOW_URL_PREFIX"] = "/auth"
        google_flow.init_app(app)
        return app
    # Inside your own blueprint -> /account/google/authorize,
    # url_for("account.google_flow.authorize")
    app.config["GOOGLE_FLOW_REGISTER_BLUEPRINT"] = False
    google_flow.init_app(app)
    account = Blueprint("account", __name__, url_prefix="/account")
    account.register_blueprint(google_flow.make_blueprint(), url_prefix="/google")
    app.register_blueprint(account)
    return app
