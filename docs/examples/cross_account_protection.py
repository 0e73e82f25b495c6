from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.signals import account_disabled, security_event_received

google_flow = GoogleFlow()
LOCKED: set[str] = set()  # your users table, in a real app


def create_app(config=None):
    app = Flask(__name__)
    app.config.update(
        GOOGLE_FLOW_RISC_ENABLED=True,  # POST /risc, for Google's security events
        SESSION_TYPE="redis",  # sessions every worker shares (or the default files)
    )
    app.config.update(config or {})
    google_flow.init_app(app)
    return app


@account_disabled.connect
def lock_account(app, sub, reason, **extra):
    # The extension already ended the user's sessions and called `delete`
    # (for "hijacking" and for no reason); disable their Google sign-in here.
    if reason != "bulk-account":
        LOCKED.add(sub)


@security_event_received.connect
def audit(app, event_type, sub, jti, **extra):
    app.logger.info("security event %s for %s (%s)", event_type, sub, jti)
