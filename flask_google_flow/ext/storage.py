"""Where a user's credentials live after sign-in.

Two implementations of one small interface, :class:`CredentialStore`:

* :class:`SessionCredentialStore` (the default when the app registers no
  callbacks) keeps the credentials as plain JSON-safe data in the
  **server-side** session — never in a cookie.
* :class:`CallbackCredentialStore` calls the app's ``store`` / ``load`` /
  ``delete`` callbacks, so credentials can live in the app's database keyed by
  the user's Google ``sub``.

Either way, the session itself keeps who is signed in under
:data:`SESSION_USER_KEY`: ``{"sub": ..., "claims": {...}, "scopes": [...],
"requested": [...]}`` (granted and requested scopes).
The client secret is never stored anywhere: credentials are rebuilt with the
app's client configuration when loaded.
"""

from __future__ import annotations

import datetime as _dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from google.oauth2.credentials import Credentials

SESSION_USER_KEY = "_google_flow_user"
"""Session key of the signed-in user's ``sub``, verified claims and granted scopes."""

SESSION_CREDENTIALS_KEY = "_google_flow_credentials"
"""Session key of the credentials kept by :class:`SessionCredentialStore`."""

#: ID-token claims that only matter while verifying, not afterwards.
_TRANSIENT_CLAIMS = frozenset({"nonce", "at_hash", "c_hash", "iat", "exp", "auth_time"})

StoreCallback = Callable[[Credentials | None, Mapping[str, Any]], Any]
LoadCallback = Callable[[str | None], Credentials | None]
DeleteCallback = Callable[[str | None], None]


def kept_claims(id_info: Mapping[str, Any]) -> dict[str, Any]:
    """The verified claims worth keeping in the session after sign-in."""
    return {k: v for k, v in id_info.items() if k not in _TRANSIENT_CLAIMS}


def credentials_to_dict(credentials: Credentials) -> dict[str, Any]:
    """Plain JSON-safe data of *credentials*, without the client secret.

    The expiry is an aware UTC ISO-8601 timestamp; ``scopes`` are the granted ones.
    """
    expiry = credentials.expiry
    granted = credentials.granted_scopes or credentials.scopes or []
    return {
        "token": credentials.token,
        "refresh_token": credentials.refresh_token,
        "expiry": expiry.replace(tzinfo=_dt.timezone.utc).isoformat() if expiry else None,
        "scopes": list(granted),
    }


def credentials_from_dict(
    data: Mapping[str, Any], *, client_id: str, client_secret: str | None, token_uri: str
) -> Credentials:
    """Rebuild :class:`~google.oauth2.credentials.Credentials` from stored plain data."""
    expiry = data.get("expiry")
    parsed = None
    if expiry:
        parsed = (
            _dt.datetime.fromisoformat(expiry).astimezone(_dt.timezone.utc).replace(tzinfo=None)
        )
    scopes = list(data.get("scopes") or [])
    return Credentials(
        token=data.get("token"),
        refresh_token=data.get("refresh_token"),
        token_uri=token_uri,
        client_id=client_id,
        client_secret=client_secret,
        scopes=scopes or None,
        granted_scopes=scopes or None,
        expiry=parsed,
    )


class CredentialStore(ABC):
    """Where credentials are kept; one instance per app, no per-request state."""

    @abstractmethod
    def save(
        self,
        session: MutableMapping[str, Any],
        credentials: Credentials | None,
        id_info: Mapping[str, Any],
    ) -> Any:
        """Keep *credentials* of the user *id_info* describes; may return a Response.

        *credentials* is ``None`` after a sign-in through ``POST /gsi``.
        """

    @abstractmethod
    def load(self, session: MutableMapping[str, Any], sub: str | None) -> Credentials | None:
        """The credentials of user *sub*, or ``None``."""

    @abstractmethod
    def delete(self, session: MutableMapping[str, Any], sub: str | None) -> None:
        """Forget the credentials of user *sub*."""

    def keep_local(self, session: MutableMapping[str, Any], credentials: Credentials) -> None:
        """Update only the copy kept in this browser's session, if any (no app callback).

        Used when another request of the same user already refreshed the token
        and handed it to the app's ``store``: this request's session catches up.
        The base implementation keeps no session copy, so it does nothing.
        """
        return None


class SessionCredentialStore(CredentialStore):
    """Keeps credentials in the server-side session (the default)."""

    def __init__(self, rebuild: Callable[[Mapping[str, Any]], Credentials]) -> None:
        self._rebuild = rebuild

    def save(
        self,
        session: MutableMapping[str, Any],
        credentials: Credentials | None,
        id_info: Mapping[str, Any],
    ) -> None:
        """Write the credentials' plain data into the session.

        ``None`` (a sign-in through ``POST /gsi``, which brings no tokens)
        keeps the credentials already there only if they are the same user's.
        """
        if credentials is None:
            previous = session.get(SESSION_USER_KEY)
            same_user = isinstance(previous, dict) and previous.get("sub") == id_info.get("sub")
            if not same_user:
                session.pop(SESSION_CREDENTIALS_KEY, None)
            return
        session[SESSION_CREDENTIALS_KEY] = credentials_to_dict(credentials)

    def load(self, session: MutableMapping[str, Any], sub: str | None) -> Credentials | None:
        """Rebuild the credentials from the session, or ``None``."""
        data = session.get(SESSION_CREDENTIALS_KEY)
        return self._rebuild(data) if data else None

    def delete(self, session: MutableMapping[str, Any], sub: str | None) -> None:
        """Drop the credentials from the session."""
        session.pop(SESSION_CREDENTIALS_KEY, None)

    def keep_local(self, session: MutableMapping[str, Any], credentials: Credentials) -> None:
        """Write the credentials' plain data into the session."""
        session[SESSION_CREDENTIALS_KEY] = credentials_to_dict(credentials)


class CallbackCredentialStore(CredentialStore):
    """Delegates to the app's ``store(credentials, id_info)``, ``load(sub)``, ``delete(sub)``.

    An app that registers ``store`` but no ``load`` still gets working
    accessors and refresh: the credentials are then *also* kept in the
    server-side session (*session_copy*) and loaded from there, exactly as
    without callbacks. Register ``load`` to make your database the only copy.
    """

    def __init__(
        self,
        store: StoreCallback,
        load: LoadCallback | None = None,
        delete: DeleteCallback | None = None,
        *,
        session_copy: SessionCredentialStore | None = None,
    ) -> None:
        self.store = store
        self.load_callback = load
        self.delete_callback = delete
        self.session_copy = session_copy if load is None else None

    def save(
        self,
        session: MutableMapping[str, Any],
        credentials: Credentials | None,
        id_info: Mapping[str, Any],
    ) -> Any:
        """Call the app's ``store``; its return value (a Response or ``None``) is passed on."""
        result = self.store(credentials, id_info)
        if self.session_copy is not None:
            self.session_copy.save(session, credentials, id_info)
        return result

    def load(self, session: MutableMapping[str, Any], sub: str | None) -> Credentials | None:
        """Call the app's ``load`` (without one: the session copy)."""
        if self.load_callback is not None:
            return self.load_callback(sub)
        if self.session_copy is not None:
            return self.session_copy.load(session, sub)
        return None

    def delete(self, session: MutableMapping[str, Any], sub: str | None) -> None:
        """Call the app's ``delete``, if it registered one, and drop the session copy."""
        if self.delete_callback:
            self.delete_callback(sub)
        if self.session_copy is not None:
            self.session_copy.delete(session, sub)

    def keep_local(self, session: MutableMapping[str, Any], credentials: Credentials) -> None:
        """Update the session copy, if there is one."""
        if self.session_copy is not None:
            self.session_copy.keep_local(session, credentials)
