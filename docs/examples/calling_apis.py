from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.signals import credentials_refreshed

USERINFO = "https://openidconnect.googleapis.com/v1/userinfo"


def create_app(config, clock=None):
    app = Flask(__name__)
    app.config.update(GOOGLE_FLOW_API_TIMEOUT=5)  # seconds per API call (default: 10)
    app.config.update(config)
    google_flow = GoogleFlow(app, clock=clock)  # clock: only tests pass one, to move time

    @app.route("/me")
    def me():
        # A requests.Session for the signed-in user. An expired access token is
        # refreshed first and the new one is saved (store callback or session)
        # before .get() returns. Nobody signed in, or access revoked: the browser
        # is redirected through /authorize and back here instead of a 500.
        response = google_flow.authorized_session().get(USERINFO)
        response.raise_for_status()
        return response.json()

    @credentials_refreshed.connect_via(app)
    def log_refresh(sender, credentials, sub, **extra):
        sender.logger.info("refreshed the access token of %s", sub)

    return app


def drive_files(google_flow):
    # google-api-python-client takes the same credentials.
    from googleapiclient.discovery import build  # pip install google-api-python-client

    service = build("drive", "v3", credentials=google_flow.credentials)
    return service.files().list(pageSize=10).execute()
