from flask import Flask, url_for

from flask_google_flow import GoogleFlow, InsufficientScopesError
from flask_google_flow.core.scopes import missing_scopes
from flask_google_flow.ext.signals import login_succeeded

DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def create_app(config):
    app = Flask(__name__)
    app.config.update(GOOGLE_SCOPES=["openid", "email", "profile"])  # asked for at sign-in
    app.config.update(config)
    google_flow = GoogleFlow(app)

    @app.route("/files")
    @google_flow.required(scopes=[DRIVE])  # signed in, and DRIVE granted
    def files():
        return "your files..."  # e.g. google_flow.authorized_session().get(DRIVE_FILES_URL)

    @app.errorhandler(InsufficientScopesError)  # the user just declined DRIVE at Google
    def declined(error):
        again = url_for("files")  # a new visit asks again
        return f'Listing files needs Drive access. <a href="{again}">Allow it</a>', 403

    @app.route("/account")
    def account():
        # Partial consent: what the latest consent asked for, and what was granted.
        declined = missing_scopes(google_flow.granted_scopes, google_flow.requested_scopes)
        # A link asking for one more scope (allowed: DRIVE is named in required()).
        connect = url_for("google_flow.authorize", scope=DRIVE, next="/account")
        return {"declined": list(declined), "connect_drive": connect}

    @login_succeeded.connect_via(app)
    def note_partial_consent(sender, granted_scopes, requested_scopes, **extra):
        declined = missing_scopes(granted_scopes, requested_scopes)
        if declined:
            sender.logger.info("user declined: %s", declined)

    return app
