"""Blinker signals sent by :class:`~flask_google_flow.GoogleFlow`.

They come from a private :class:`blinker.Namespace`, so connecting to them never
clashes with another extension's signals. Every signal is sent with the Flask
app as the sender::

    from flask_google_flow.ext.signals import login_succeeded

    @login_succeeded.connect_via(app)
    def on_login(app, credentials, id_info, **extra):
        app.logger.info("signed in: %s", id_info.get("sub"))

Receivers get keyword arguments only; none of them is a secret to log blindly:
``credentials`` holds tokens, so log claims, not credentials.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

login_succeeded = _signals.signal("login-succeeded")
"""Sent after the store callback has run, before the session is saved (a
receiver may still write to ``session``); if saving it then fails,
``login_failed`` follows with ``store_ran=True``. Keyword arguments: ``credentials``
(:class:`google.oauth2.credentials.Credentials`), ``id_info`` (verified
claims, ``{}`` when ``openid`` was not requested), ``granted_scopes`` and
``requested_scopes`` (lists of scope strings)."""

login_failed = _signals.signal("login-failed")
"""Sent once when a sign-in fails. Keyword arguments: ``error`` (the
:class:`~flask_google_flow.ext.errors.GoogleFlowError` raised, or the
:class:`~flask_google_flow.ext.errors.SessionUnavailable` whose 503 page
replaced the response), ``store_ran`` (``True`` when the ``store`` callback had
already returned — the session could not be written afterwards — so the app
can undo what it saved), ``id_info`` (the verified claims when ``store_ran``,
else ``{}``) and ``reason`` (the error's ``error_code``). No secrets."""

credentials_refreshed = _signals.signal("credentials-refreshed")
"""Sent after expired credentials were refreshed and handed back to the store.
Keyword arguments: ``credentials``, ``sub``."""

credentials_revoked = _signals.signal("credentials-revoked")
"""Sent after ``POST /revoke``. Keyword arguments: ``sub``, ``revoked``
(``True`` when the provider confirmed the revocation) and ``outcome``
(``"revoked"``, ``"invalid"`` when the provider answered that the token was
already invalid, ``"failed"`` when it could not be reached or the app's
``load`` callback raised, ``"none"`` when there was nothing to revoke)."""

logged_out = _signals.signal("logged-out")
"""Sent after ``POST /logout``. Keyword argument: ``sub``."""

security_event_received = _signals.signal("security-event-received")
"""Sent for every event of a verified Cross-Account Protection SET (``POST /risc``),
known type or not, after the extension acted on it. Keyword arguments:
``event_type`` (the URI), ``name`` (``"sessions-revoked"``..., ``None`` for an
undocumented type), ``sub`` (the Google account id, ``None`` when the event names
none of our users), ``event`` (the event's JSON object) and ``jti``. Sent with the
app as sender, in an app context without a request session."""

sessions_revoked = _signals.signal("sessions-revoked")
"""RISC ``sessions-revoked``: the user's sessions were ended.
Arguments: ``sub``, ``event``, ``jti``."""

tokens_revoked = _signals.signal("tokens-revoked")
"""RISC ``tokens-revoked``: the user's sessions were ended and stored credentials
deleted (the ``delete`` callback). Arguments: ``sub``, ``event``, ``jti``."""

token_revoked = _signals.signal("token-revoked")
"""RISC ``token-revoked`` for one refresh token. Arguments: ``sub`` (``None`` when the
token is not one this app issued or remembers), ``token_identifier_alg``,
``token`` (Google's identifier of it: a 16-character prefix or a double SHA-512
hash, never the token itself), ``event``, ``jti``."""

account_disabled = _signals.signal("account-disabled")
"""RISC ``account-disabled``. Arguments: ``sub``, ``reason`` (``"hijacking"``,
``"bulk-account"`` or ``None``), ``event``, ``jti``. With ``hijacking`` or no reason
the user's sessions were ended and credentials deleted; lock the account or
disable its Google sign-in here."""

account_enabled = _signals.signal("account-enabled")
"""RISC ``account-enabled``. Arguments: ``sub``, ``event``, ``jti``."""

account_credential_change_required = _signals.signal("account-credential-change-required")
"""RISC ``account-credential-change-required``. Arguments: ``sub``, ``event``, ``jti``."""

risc_verification = _signals.signal("risc-verification")
"""RISC ``verification`` (a test event, see ``flask-google-flow-risc verify``).
Arguments: ``state`` (the string the verification request sent), ``event``, ``jti``."""

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
