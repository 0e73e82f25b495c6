"""Where a user's credentials live after sign-in.

Two implementations of one small interface, :class:`CredentialStore`:

* :class:`SessionCredentialStore` (the default when the app registers no
  callbacks) keeps the credentials as JSON-safe data in the **server-side**
  session — never in a cookie — encrypted with :class:`TokenCipher` when
  ``GOOGLE_FLOW_ENCRYPTION_KEY`` is set.
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
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

from google.oauth2.credentials import Credentials
from werkzeug.wrappers import Response

logger = logging.getLogger("flask_google_flow")

SESSION_USER_KEY = "_google_flow_user"
"""Session key of the signed-in user's ``sub``, verified claims and granted scopes."""

SESSION_CREDENTIALS_KEY = "_google_flow_credentials"
"""Session key of the credentials kept by :class:`SessionCredentialStore`."""

#: ID-token claims that only matter while verifying, not afterwards.
_TRANSIENT_CLAIMS = frozenset({"nonce", "at_hash", "c_hash", "iat", "exp", "auth_time"})

#: ``store(credentials, id_info)`` (credentials ``None`` after a ``POST /gsi`` sign-in);
#: its return value is used only if it is a response.
StoreCallback = Callable[[Credentials | None, Mapping[str, Any]], Any]
#: ``load(sub) -> Credentials | None``.
LoadCallback = Callable[[str | None], Credentials | None]
#: ``delete(sub) -> None``.
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
    ) -> Response | None:
        """Keep *credentials* of the user *id_info* describes.

        *credentials* is ``None`` after a sign-in through ``POST /gsi``.

        :returns: a response to send instead of the redirect to ``next``, or ``None``.
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


class TokenCipher:
    """Encrypts the credentials kept in the session (``GOOGLE_FLOW_ENCRYPTION_KEY``).

    Fernet (AES-128-CBC with HMAC-SHA256, from :mod:`cryptography`) with
    several keys through ``MultiFernet``: the first key encrypts, every key
    decrypts, so a new key is rolled out by putting it first and dropping the
    old one once no session holds data it encrypted.

    :param keys: Fernet keys (``Fernet.generate_key()``), newest first.
    :raises ValueError: no key, or one that is not a Fernet key (the message
        names the setting, never the key).
    """

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        from cryptography.fernet import Fernet, InvalidToken, MultiFernet

        if not keys:
            raise ValueError("GOOGLE_FLOW_ENCRYPTION_KEY has no key")
        try:
            fernets = [Fernet(key) for key in keys]
        except (TypeError, ValueError):
            raise ValueError(
                "GOOGLE_FLOW_ENCRYPTION_KEY: every key must be a Fernet key (32 url-safe "
                "base64-encoded bytes, from cryptography.fernet.Fernet.generate_key())"
            ) from None
        self._fernet = MultiFernet(fernets)
        self._invalid = InvalidToken

    def encrypt(self, data: Mapping[str, Any]) -> str:
        """The Fernet token of *data* (JSON), as text."""
        text = json.dumps(dict(data), separators=(",", ":"))
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> dict[str, Any] | None:
        """The data of a token from :meth:`encrypt`, or ``None`` (wrong key, tampered)."""
        try:
            data = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (self._invalid, ValueError, UnicodeError):
            return None
        return data if isinstance(data, dict) else None


def token_cipher(keys: Sequence[str | bytes]) -> TokenCipher | None:
    """A :class:`TokenCipher` for *keys*, or ``None`` when there are none (no encryption)."""
    return TokenCipher(keys) if keys else None


class SessionCredentialStore(CredentialStore):
    """Keeps credentials in the server-side session (the default).

    With a *cipher* the session holds them as one Fernet token (text) instead
    of plain data. Data that cannot be decrypted (wrong or dropped key,
    encrypted data without a key) counts as no credentials, with a warning.
    Plain data written before encryption was turned on is still read, and
    encrypted at its next save.
    """

    def __init__(
        self,
        rebuild: Callable[[Mapping[str, Any]], Credentials],
        *,
        cipher: TokenCipher | None = None,
    ) -> None:
        self._rebuild = rebuild
        self.cipher = cipher

    def _value(self, credentials: Credentials) -> Any:
        data = credentials_to_dict(credentials)
        return self.cipher.encrypt(data) if self.cipher is not None else data

    def save(
        self,
        session: MutableMapping[str, Any],
        credentials: Credentials | None,
        id_info: Mapping[str, Any],
    ) -> None:
        """Write the credentials' data (encrypted with a cipher) into the session.

        ``None`` (a sign-in through ``POST /gsi``, which brings no tokens)
        keeps the credentials already there only if they are the same user's.
        """
        if credentials is None:
            previous = session.get(SESSION_USER_KEY)
            same_user = isinstance(previous, dict) and previous.get("sub") == id_info.get("sub")
            if not same_user:
                session.pop(SESSION_CREDENTIALS_KEY, None)
            return
        session[SESSION_CREDENTIALS_KEY] = self._value(credentials)

    def load(self, session: MutableMapping[str, Any], sub: str | None) -> Credentials | None:
        """Rebuild the credentials from the session, or ``None``."""
        data = session.get(SESSION_CREDENTIALS_KEY)
        if isinstance(data, str):
            data = self.cipher.decrypt(data) if self.cipher is not None else None
            if data is None:
                logger.warning(
                    "flask-google-flow: the credentials kept in this session cannot be "
                    "decrypted with GOOGLE_FLOW_ENCRYPTION_KEY; treating them as absent"
                )
                return None
        return self._rebuild(data) if isinstance(data, Mapping) and data else None

    def delete(self, session: MutableMapping[str, Any], sub: str | None) -> None:
        """Drop the credentials from the session."""
        session.pop(SESSION_CREDENTIALS_KEY, None)

    def keep_local(self, session: MutableMapping[str, Any], credentials: Credentials) -> None:
        """Write the credentials' data (encrypted with a cipher) into the session."""
        session[SESSION_CREDENTIALS_KEY] = self._value(credentials)


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
    ) -> Response | None:
        """Call the app's ``store``; its return value is passed on only if it is a response.

        :returns: what ``store`` returned if it is a response object
            (:class:`werkzeug.wrappers.Response`, which :class:`flask.Response`
            is), else ``None``: ``False``, ``0``, strings, tuples and every
            other value are ignored.
        """
        result = self.store(credentials, id_info)
        if self.session_copy is not None:
            self.session_copy.save(session, credentials, id_info)
        return result if isinstance(result, Response) else None

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
