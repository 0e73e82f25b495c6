from flask import Flask, session, url_for

from flask_google_flow import GoogleFlow


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="dev-only-change-me",  # production: set FLASK_SECRET_KEY instead
        GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",  # downloaded from Google Cloud Console
        GOOGLE_SCOPES=["openid", "email", "profile"],
    )
    app.config.from_prefixed_env()  # FLASK_SECRET_KEY, FLASK_GOOGLE_... from the environment
    app.config.update(test_config or {})
    GoogleFlow(app)

    @app.route("/")
    def home():
        user = session.get("_google_flow_user")  # {"sub", "claims", "scopes"} once signed in
        if user is None:
            return f'<a href="{url_for("google_flow.authorize", next="/")}">Sign in with Google</a>'
        return f"Hello {user['claims'].get('name')} ({user['sub']})"

    return app
