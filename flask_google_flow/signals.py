"""Public path of the blinker signals, :mod:`flask_google_flow.ext.signals`."""

from .ext.signals import (
    account_credential_change_required,
    account_disabled,
    account_enabled,
    credentials_refreshed,
    credentials_revoked,
    logged_out,
    login_failed,
    login_succeeded,
    risc_verification,
    security_event_received,
    sessions_revoked,
    token_revoked,
    tokens_revoked,
)

__all__ = [
    "account_credential_change_required",
    "account_disabled",
    "account_enabled",
    "credentials_refreshed",
    "credentials_revoked",
    "logged_out",
    "login_failed",
    "login_succeeded",
    "risc_verification",
    "security_event_received",
    "sessions_revoked",
    "token_revoked",
    "tokens_revoked",
]
