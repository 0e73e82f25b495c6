"""Public path of the blinker signals, :mod:`flask_google_flow.ext.signals`."""

from .ext.signals import (
    credentials_refreshed,
    credentials_revoked,
    logged_out,
    login_failed,
    login_succeeded,
)

__all__ = [
    "credentials_refreshed",
    "credentials_revoked",
    "logged_out",
    "login_failed",
    "login_succeeded",
]
