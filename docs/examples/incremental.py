from flask import Flask, session, url_for

from flask_google_flow import GoogleFlow
from flask_google_flow.signals import login_succeeded

DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def create_app(config):
    app = Flask(__name__)
    app.config.update(
        GOOGLE_SCOPES=["openid", "email", "profile"],  # asked for at sign-in
        GOOGLE_FLOW_EXTRA_SCOPES=[DRIVE],  # may be asked for later, and only these
    )
    app.config.update(config)
    GoogleFlow(app)

    @app.route("/files")
    def files():
        user = session.get("_google_flow_user")
        if user is None or DRIVE not in user["scopes"]:
            # Ask only for what is missing; Google adds it to what was granted before
            # (include_granted_scopes=true) and the user comes back here.
            ask = url_for("google_flow.authorize", scope=DRIVE, next="/files")
            return f'<a href="{ask}">Allow Drive access</a>'
        return "your files..."

    @login_succeeded.connect_via(app)
    def note_partial_consent(sender, granted_scopes, requested_scopes, **extra):
        # With granular consent the user may untick some permissions.
        missing = set(requested_scopes) - set(granted_scopes)
        if missing:
            sender.logger.info("user declined: %s", sorted(missing))

    return app
