from flask import Flask, url_for

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
    google_flow = GoogleFlow(app)

    @app.route("/")
    def home():
        user = google_flow.user  # the verified ID-token claims, or None
        if user is None:
            return f'<a href="{url_for("google_flow.authorize", next="/")}">Sign in with Google</a>'
        return (
            f"Hello {user.get('name')} ({user['sub']})"
            f'<form method="post" action="{url_for("google_flow.logout")}">'
            "<button>Sign out</button></form>"
        )

    return app
