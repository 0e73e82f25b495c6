"""The signed-in user of the current request: claims, credentials, scopes.

Everything here reads the request's session (who is signed in, under
:data:`~flask_google_flow.ext.storage.SESSION_USER_KEY`) and the app's credential
store, and caches the result in :data:`flask.g` for the rest of the request,
so a view and its template load the credentials once. Nothing is kept on a
shared object.

The session record written at sign-in::

    {"sub": "...", "claims": {...}, "scopes": [granted...], "requested": [requested...]}
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, session
from google.oauth2.credentials import Credentials
from werkzeug.local import LocalProxy

from .state import app_state
from .storage import SESSION_USER_KEY

__all__ = [
    "current_credentials",
    "current_google_credentials",
    "current_google_user",
    "current_user_claims",
    "forget_current",
    "granted_scopes",
    "replace_current",
    "requested_scopes",
    "signed_in_record",
]

_CACHE_KEY = "_google_flow_credentials"
_MISSING = object()


def signed_in_record() -> dict[str, Any] | None:
    """The session's sign-in record, or ``None`` (also outside a request).

    :raises RuntimeError: inside a request of an app ``init_app`` was never called for.
    """
    if not has_request_context():
        return None
    app_state()  # an app without the extension is a setup mistake, not "signed out"
    record = session.get(SESSION_USER_KEY)
    return record if isinstance(record, dict) else None


def current_user_claims() -> dict[str, Any] | None:
    """The verified ID-token claims of the signed-in user, or ``None``.

    Transient claims (``nonce``, ``iat``, ``exp``...) are not kept. When
    ``openid`` was not requested the dict is empty but not ``None``.
    """
    record = signed_in_record()
    if record is None:
        return None
    return dict(record.get("claims") or {})


def current_credentials() -> Credentials | None:
    """The signed-in user's credentials from the store, or ``None``; cached per request.

    The same object is returned for the whole request until a refresh done by
    :func:`~flask_google_flow.ext.refresh.authorized_session` replaces it with
    the new credentials, which are then returned here.
    """
    record = signed_in_record()
    if record is None:
        return None
    cached = g.get(_CACHE_KEY, _MISSING)
    if cached is not _MISSING:
        return cached
    state = app_state()
    credentials = state.credential_store().load(session, record.get("sub"))
    setattr(g, _CACHE_KEY, credentials)
    return credentials


def forget_current() -> None:
    """Drop this request's cached credentials (after they were deleted or replaced)."""
    if has_request_context():
        g.pop(_CACHE_KEY, None)


def replace_current(credentials: Credentials) -> None:
    """Make *credentials* this request's current credentials (after a refresh made new ones)."""
    if has_request_context():
        setattr(g, _CACHE_KEY, credentials)


def granted_scopes() -> tuple[str, ...]:
    """Scopes the user granted (Google's spelling: ``email`` appears as its URL form).

    From the session's sign-in record (updated by every sign-in and refresh),
    else from the credentials' ``granted_scopes``; ``()`` when nobody is signed in.
    """
    record = signed_in_record()
    if record is None:
        return ()
    scopes = record.get("scopes")
    if scopes:
        return tuple(scopes)
    credentials = current_credentials()
    if credentials is None:
        return ()
    return tuple(credentials.granted_scopes or credentials.scopes or ())


def requested_scopes() -> tuple[str, ...]:
    """Scopes asked for at the user's latest sign-in (compare with :func:`granted_scopes`)."""
    record = signed_in_record()
    if record is None:
        return ()
    return tuple(record.get("requested") or record.get("scopes") or ())


current_google_user: Any = LocalProxy(current_user_claims)
"""Proxy to the signed-in user's verified claims (a dict), or ``None``.

For templates and views: ``{% if current_google_user %}Hi {{ current_google_user.name }}``.
"""

current_google_credentials: Any = LocalProxy(current_credentials)
"""Proxy to the signed-in user's :class:`~google.oauth2.credentials.Credentials`, or ``None``."""
