"""Ending every server-side session of one Google account, on every worker, at once.

Flask-Session has no public "delete the sessions of user X" (nor "delete
session id Y" for every backend), and deleting a session record from outside
loses against a request of that browser still in flight, which saves the
session again when it ends. So a user's sessions are ended with a **marker**
instead of being deleted one by one:

* ``revoked:<sub>`` — a random value kept in the session backend (through the
  pending-flow store of :mod:`flask_google_flow.ext.pending`, the same client
  and key prefix scheme), replaced each time the user's sessions are ended
  (:meth:`UserSessions.end_all`). It lives as long as a session can
  (``PERMANENT_SESSION_LIFETIME`` plus a day), so no session outlives it.
* At sign-in the session copies the marker's current value (or ``""``) under
  :data:`SESSION_MARK_KEY` (:func:`remember_sign_in`, called by the callback).
* On every request of a signed-in session, :meth:`UserSessions.is_ended`
  reads the marker: if there is one and it differs from the session's copy,
  the session was signed in before the sessions were ended, and the request
  clears it (:func:`end_current_session`).

Cost: one backend ``GET`` per request of a signed-in session while
``GOOGLE_FLOW_RISC_ENABLED`` is on (nothing for anonymous requests, nothing
when off); at sign-in one ``GET`` and, when Google returned a refresh token,
two ``SET`` of the token index below. Ending is one ``SET``, seen by the next
request on any worker: there is no per-process cache to wait for.

The token index maps Google's identifiers of a refresh token (its 16-character
prefix and its double SHA-512 hash, see
:func:`~flask_google_flow.core.security_events.refresh_token_identifiers`) to
the ``sub``, so a ``token-revoked`` event finds the user to act on. The token
itself is never stored here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from ..core.security_events import refresh_token_identifiers, token_identifier_key
from .current import forget_current
from .pending import PendingFlowStore
from .storage import SESSION_USER_KEY

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

__all__ = [
    "SESSION_MARK_KEY",
    "USER_SESSIONS_KEY",
    "UserSessions",
    "end_current_session",
    "remember_sign_in",
]

logger = logging.getLogger("flask_google_flow")

USER_SESSIONS_KEY = "google_flow.user_sessions"
"""Key of the app's :class:`UserSessions` in ``app.extensions`` (only while RISC is on)."""

SESSION_MARK_KEY = "_google_flow_risc_mark"
"""Session key of the user's marker value at sign-in."""

#: Refresh tokens unused for six months expire at Google; keep their index a bit longer.
TOKEN_INDEX_TTL = 200 * 86400


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class UserSessions:
    """Markers that end a user's sessions, and the refresh-token index; one per app.

    :param store: a pending-flow store that implements ``get`` (Redis, CacheLib).
    :param marker_ttl: seconds a marker lives; at least the longest session lifetime.
    """

    def __init__(self, store: PendingFlowStore, *, marker_ttl: int) -> None:
        self.store = store
        self.marker_ttl = int(marker_ttl)

    def marker(self, sub: str) -> str | None:
        """The current marker of *sub*, or ``None`` if its sessions were never ended."""
        return self.store.get(_key("revoked", sub))

    def remember_sign_in(
        self, session: MutableMapping[str, Any], sub: str, refresh_token: str | None
    ) -> None:
        """Copy the marker into the session; index the refresh token's identifiers."""
        session[SESSION_MARK_KEY] = self.marker(sub) or ""
        if refresh_token:
            for alg, identifier in refresh_token_identifiers(refresh_token):
                key = token_identifier_key(alg, identifier)
                if key is not None:
                    self.store.put(key, sub, TOKEN_INDEX_TTL)

    def end_all(self, sub: str) -> None:
        """End every session of *sub* signed in until now (a new marker value)."""
        self.store.put(_key("revoked", sub), secrets.token_hex(16), self.marker_ttl)

    def is_ended(self, session: MutableMapping[str, Any]) -> bool:
        """Whether *session* is signed in and its user's sessions were ended since."""
        record = session.get(SESSION_USER_KEY)
        sub = record.get("sub") if isinstance(record, dict) else None
        if not isinstance(sub, str) or not sub:
            return False
        current = self.marker(sub)
        return current is not None and current != session.get(SESSION_MARK_KEY)

    def sub_for_token(self, alg: str, token: str) -> str | None:
        """The ``sub`` whose refresh token Google names by ``(alg, token)``, if indexed."""
        key = token_identifier_key(alg, token)
        return self.store.get(key) if key is not None else None

    def claim(self, name: str, ttl: int) -> bool:
        """Record *name* (e.g. a SET's ``jti``) once; ``False`` if it was already recorded."""
        return self.store.add(_key("seen", name), "1", ttl)

    def release(self, name: str) -> None:
        """Forget a :meth:`claim` (the work it guarded failed and may be retried)."""
        self.store.delete(_key("seen", name))


def remember_sign_in(
    app: Flask, session: MutableMapping[str, Any], sub: Any, credentials: Credentials
) -> None:
    """The sign-in hook: note the user's marker in the new session (no-op while RISC is off)."""
    sessions = app.extensions.get(USER_SESSIONS_KEY)
    if sessions is not None and isinstance(sub, str) and sub:
        sessions.remember_sign_in(session, sub, credentials.refresh_token)


def end_current_session(app: Flask, session: MutableMapping[str, Any]) -> None:
    """Sign this request's browser out: a new session id, then an empty session."""
    regenerate = getattr(app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(session)
    session.clear()
    forget_current()
