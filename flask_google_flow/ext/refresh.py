"""Refresh that is never lost: ``google_flow.authorized_session()``.

:func:`authorized_session` returns a :class:`GoogleAuthorizedSession`, a
google-auth :class:`~google.auth.transport.requests.AuthorizedSession` that

* uses the provider's pooled connections and ``GOOGLE_FLOW_API_TIMEOUT``
  (google-auth's own default is 120 seconds) unless a call passes ``timeout=``;
* refreshes the access token itself — before a call when it is about to
  expire (by the extension's clock, ``GOOGLE_FLOW_REFRESH_LEEWAY`` early), and
  once after a ``401`` — and every refresh goes through :func:`refresh_credentials`;
* hands every refreshed token (and a rotated refresh token) to the credential
  store *before* the call returns to the app, and sends
  :data:`~flask_google_flow.ext.signals.credentials_refreshed`.

Concurrency. Within one process, refreshes of one user are serialised by a
per-user lock, and the outcome of a refresh is remembered (keyed by a hash of
the access token it replaced) for as long as the new token is valid: a
second request that was waiting with the same old token adopts the new one
instead of refreshing again, and writes it into its own session. With an
app ``load`` callback, the store is also re-read under the lock, so a token
refreshed by another process is adopted too.

Across processes without a shared ``load`` the last writer wins, which is
safe with Google: a refresh does not invalidate the refresh token, and every
access token issued stays valid until it expires. Only a provider that
*rotates* refresh tokens (one-time-use refresh tokens) needs more: there,
register ``load`` on a shared database so the re-read under the lock sees the
rotated token, or keep one worker per user (sticky sessions).

Failure. ``invalid_grant`` (revoked or expired refresh token) or credentials
that cannot be refreshed (no refresh token) clear the stored credentials and
raise :class:`~flask_google_flow.ext.errors.ReauthorizationRequired`, whose
response is a ``302`` to ``/authorize?next=<this page>&prompt=consent``. A
provider that fails or times out raises
:class:`~flask_google_flow.ext.errors.ProviderUnavailable` (502) or
:class:`~flask_google_flow.ext.errors.ProviderTimeout` (504).

Use the session inside the request that created it: the refreshed token is
written to that request's session and store.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, current_app, request, session, url_for
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials

from . import errors, signals
from .current import current_credentials, forget_current, replace_current, signed_in_record
from .state import app_state
from .storage import (
    SESSION_USER_KEY,
    CallbackCredentialStore,
    CredentialStore,
    credentials_to_dict,
)

__all__ = [
    "GoogleAuthorizedSession",
    "RefreshCoordinator",
    "authorized_session",
    "current_path",
    "expiry_on_clock",
    "needs_refresh",
    "reauthorization_url",
    "refresh_credentials",
]

logger = logging.getLogger("flask_google_flow")

_UTC = _dt.timezone.utc
_DEFAULT = object()


def _fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


class RefreshCoordinator:
    """Per app and process: a lock per user and the outcome of recent refreshes.

    Holds no per-request data: locks are striped by a hash of the user's key
    and the remembered outcomes are keyed by a hash of the replaced token.

    :param clock: the extension's ``time.time``-like clock.
    :param stripes: number of locks users are spread over.
    :param max_entries: most remembered refresh outcomes (oldest dropped).
    """

    def __init__(
        self, clock: Callable[[], float], *, stripes: int = 64, max_entries: int = 4096
    ) -> None:
        self._clock = clock
        self._locks = [threading.Lock() for _ in range(stripes)]
        self._guard = threading.Lock()
        self._recent: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._max_entries = max_entries

    def lock_for(self, user_key: str) -> threading.Lock:
        """The lock that serialises refreshes of the user *user_key*."""
        digest = hashlib.sha256(user_key.encode()).digest()
        return self._locks[int.from_bytes(digest[:4], "big") % len(self._locks)]

    def remember(
        self, user_key: str, replaced_token: str, data: dict[str, Any], until: float
    ) -> None:
        """Remember that *user_key*'s *replaced_token* was refreshed into *data*, until *until*.

        Keyed by the user **and** the token: two users never share an outcome,
        even when neither had an access token stored.
        """
        key = f"{user_key}:{_fingerprint(replaced_token)}"
        with self._guard:
            self._recent[key] = (until, data)
            self._recent.move_to_end(key)
            while len(self._recent) > self._max_entries:
                self._recent.popitem(last=False)

    def outcome(self, user_key: str, replaced_token: str) -> dict[str, Any] | None:
        """The data *user_key*'s *replaced_token* was refreshed into, while still valid."""
        key = f"{user_key}:{_fingerprint(replaced_token)}"
        now = self._clock()
        with self._guard:
            entry = self._recent.get(key)
            if entry is None:
                return None
            until, data = entry
            if now >= until:
                del self._recent[key]
                return None
            return data


def needs_refresh(credentials: Credentials, now: float, leeway: float = 0.0) -> bool:
    """Whether *credentials* should be refreshed before use.

    True without an access token, when the expiry is within *leeway* seconds
    of *now* (the extension's clock), or when google-auth itself considers
    the credentials invalid.
    """
    if not credentials.token:
        return True
    expiry = credentials.expiry
    if expiry is not None and now >= expiry.replace(tzinfo=_UTC).timestamp() - leeway:
        return True
    return not credentials.valid


def _adopted(credentials: Credentials, data: Mapping[str, Any]) -> Credentials:
    """New credentials: *credentials* with a refresh outcome (plain data) in place.

    A copy made by google-auth's public ``with_token_uri`` (same token URI,
    client, scopes, quota project...), then the outcome set through the public
    ``token`` and ``expiry`` attributes. A rotated refresh token or a new
    granted-scope set has no public setter, so then the credentials are built
    with the constructor from the copy's public properties.
    """
    expiry = data.get("expiry")
    parsed = (
        _dt.datetime.fromisoformat(expiry).astimezone(_UTC).replace(tzinfo=None) if expiry else None
    )
    refresh_token = data.get("refresh_token") or credentials.refresh_token
    granted = list(data.get("scopes") or credentials.granted_scopes or [])
    if refresh_token == credentials.refresh_token and granted == list(
        credentials.granted_scopes or []
    ):
        fresh = credentials.with_token_uri(credentials.token_uri)
    else:
        fresh = Credentials(
            data.get("token"),
            refresh_token=refresh_token,
            id_token=credentials.id_token,
            token_uri=credentials.token_uri,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            scopes=credentials.scopes,
            default_scopes=credentials.default_scopes,
            quota_project_id=credentials.quota_project_id,
            rapt_token=credentials.rapt_token,
            granted_scopes=granted or None,
            universe_domain=credentials.universe_domain,
            account=credentials.account,
        )
    fresh.token = data.get("token")
    fresh.expiry = parsed
    return fresh


def expiry_on_clock(credentials: Credentials, now: float) -> float | None:
    """Move an expiry counted on the wall clock onto the extension's clock (public ``expiry``).

    google-auth counts a refreshed token's lifetime from its own clock (the
    wall clock); ``needs_refresh`` counts on the extension's clock (tests
    inject one), so the lifetime is re-anchored there: the same remaining
    lifetime, measured from *now*. Nothing else in the package computes an
    expiry: sign-in credentials come from the flow layer.

    :returns: the expiry as a timestamp on that clock, or ``None``.
    """
    if credentials.expiry is None:
        return None
    lifetime = credentials.expiry - _dt.datetime.now(_UTC).replace(tzinfo=None)
    rebased = _dt.datetime.fromtimestamp(now, _UTC).replace(tzinfo=None) + lifetime
    credentials.expiry = rebased
    return rebased.replace(tzinfo=_UTC).timestamp()


def _is_invalid_grant(exc: auth_exceptions.RefreshError) -> bool:
    details = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(details, Mapping):
        return details.get("error") == "invalid_grant"
    return False


def _caused_by_timeout(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.Timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def current_path() -> str:
    """The current request's path and query string, as a ``next`` value."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def reauthorization_url(state: Any) -> str:
    """``/authorize?next=<current path>&prompt=consent`` for the current request."""
    return url_for(state.endpoint("authorize"), next=current_path(), prompt="consent")


@dataclass
class UserContext:
    """What a refresh needs to know about the user; built once per authorized session.

    Per request: it holds the request's session object, never shared.
    """

    app: Flask
    state: Any  # AppState
    store: CredentialStore = field(repr=False)
    session: MutableMapping[str, Any] = field(repr=False)  # holds tokens
    sub: str | None
    claims: dict[str, Any]
    reauthorize_url: str

    @property
    def user_key(self) -> str:
        """The per-user lock key from the Google ``sub``; ``""`` without one.

        :func:`refresh_credentials` falls back to a hash of the refresh token.
        """
        return f"sub:{self.sub}" if self.sub else ""

    @classmethod
    def current(cls) -> UserContext:
        """The context of the signed-in user of the current request."""
        state = app_state()
        record = signed_in_record() or {}
        claims = dict(record.get("claims") or {})
        return cls(
            app=current_app._get_current_object(),  # type: ignore[attr-defined]
            state=state,
            store=state.credential_store(),
            session=session._get_current_object(),  # type: ignore[attr-defined]
            sub=record.get("sub"),
            claims=claims,
            reauthorize_url=reauthorization_url(state),
        )


def refresh_credentials(
    context: UserContext,
    credentials: Credentials,
    *,
    force: bool = False,
    failed_token: str | None = None,
) -> Credentials:
    """Fresh credentials for *credentials*, the outcome persisted.

    *credentials* are never changed: a refresh (or the adoption of one made by
    another request) gives **new** :class:`~google.oauth2.credentials.Credentials`,
    which are returned, handed to the store and become this request's
    current credentials (``google_flow.credentials``).

    :param context: the user (see :class:`UserContext`).
    :param credentials: the credentials used by this request.
    :param force: refresh even if the expiry says the token is fine (after a ``401``).
    :param failed_token: with *force*, the token the ``401`` answered; nothing is
        done if the credentials already hold another one.
    :returns: the new credentials, or *credentials* themselves when nothing
        had to be done.
    :raises ReauthorizationRequired: the grant is gone; stored credentials were cleared.
    :raises ProviderUnavailable: the token endpoint failed.
    :raises ProviderTimeout: the token endpoint timed out.
    """
    state = context.state
    settings = state.settings
    if not force and not needs_refresh(credentials, state.clock(), settings.refresh_leeway):
        return credentials  # the common case: no lock taken
    key = context.user_key or f"rt:{_fingerprint(credentials.refresh_token)}"
    with state.refresher.lock_for(key):
        if force:
            if failed_token is not None and credentials.token != failed_token:
                return credentials
        elif not needs_refresh(credentials, state.clock(), settings.refresh_leeway):
            return credentials
        stale = credentials.token

        # Another request of this user may have refreshed the same token
        # meanwhile; without a stale token there is nothing to match on.
        adopted = state.refresher.outcome(key, stale) if stale else None
        if adopted is None:
            adopted = _newer_in_store(context, stale)
        if adopted is not None:
            fresh = _adopted(credentials, adopted)
            context.store.keep_local(context.session, fresh)
            _update_session_scopes(context, fresh)
            replace_current(fresh)
            return fresh

        fresh = _refresh_at_provider(context, credentials)
        until = expiry_on_clock(fresh, state.clock())
        data = credentials_to_dict(fresh)
        if until is not None and stale:
            state.refresher.remember(key, stale, data, until)
        try:
            context.store.save(context.session, fresh, context.claims)
        except Exception as exc:
            logger.exception("flask-google-flow: the store callback raised after a refresh")
            raise errors.StoreFailed() from exc
        _update_session_scopes(context, fresh)
        replace_current(fresh)
    logger.info("flask-google-flow: refreshed the access token of a signed-in user")
    signals.credentials_refreshed.send(context.app, credentials=fresh, sub=context.sub)
    return fresh


def _newer_in_store(context: UserContext, stale: str | None) -> dict[str, Any] | None:
    """A token another process already stored (only with an app ``load`` callback)."""
    store = context.store
    if not isinstance(store, CallbackCredentialStore) or store.load_callback is None:
        return None
    stored = store.load(context.session, context.sub)
    if stored is None or not stored.token or stored.token == stale:
        return None
    if needs_refresh(stored, context.state.clock(), context.state.settings.refresh_leeway):
        return None
    return credentials_to_dict(stored)


def _refresh_at_provider(context: UserContext, credentials: Credentials) -> Credentials:
    """Refresh a copy of *credentials* (google-auth's public ``with_token_uri``) at the provider.

    :returns: the refreshed copy; *credentials* are left as they were.
    """
    state = context.state
    auth_request = functools.partial(
        state.provider.auth_request, timeout=state.settings.http_timeout
    )
    fresh = credentials.with_token_uri(credentials.token_uri)
    try:
        fresh.refresh(auth_request)
    except auth_exceptions.RefreshError as exc:
        if _is_invalid_grant(exc) or not credentials.refresh_token:
            logger.info("flask-google-flow: the refresh token is no longer valid; re-authorizing")
            _clear(context)
            raise errors.ReauthorizationRequired(context.reauthorize_url) from None
        logger.warning("flask-google-flow: the token endpoint refused a refresh")
        raise errors.ProviderUnavailable() from None
    except auth_exceptions.TransportError as exc:
        if _caused_by_timeout(exc):
            logger.warning("flask-google-flow: the token endpoint timed out during a refresh")
            raise errors.ProviderTimeout() from None
        logger.warning("flask-google-flow: the token endpoint failed during a refresh")
        raise errors.ProviderUnavailable() from None
    return fresh


def _clear(context: UserContext) -> None:
    """Forget the user's credentials (the sign-in record, i.e. identity, stays)."""
    try:
        context.store.delete(context.session, context.sub)
    except Exception:
        logger.exception("flask-google-flow: the delete callback raised")
    forget_current()


def _update_session_scopes(context: UserContext, credentials: Credentials) -> None:
    granted = credentials.granted_scopes
    record = context.session.get(SESSION_USER_KEY)
    if granted and isinstance(record, dict) and list(record.get("scopes") or []) != list(granted):
        context.session[SESSION_USER_KEY] = {**record, "scopes": list(granted)}


class GoogleAuthorizedSession(AuthorizedSession):
    """An :class:`~google.auth.transport.requests.AuthorizedSession` whose refreshes persist.

    Every call first makes sure the token is fresh (see :func:`refresh_credentials`)
    and, on a ``401``, refreshes once and retries. Calls without ``timeout=``
    use the configured default instead of google-auth's 120 seconds.
    """

    def __init__(
        self,
        credentials: Credentials,
        context: UserContext,
        *,
        timeout: float,
    ) -> None:
        # Refreshes are done here (refresh_credentials), never by google-auth on its own.
        super().__init__(
            credentials,
            refresh_status_codes=(),
            max_refresh_attempts=0,
            auth_request=context.state.provider.auth_request,
        )
        self.default_timeout = timeout
        self._context = context
        context.state.provider.mount(self)

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Any = None,
        max_allowed_time: float | None = None,
        timeout: Any = _DEFAULT,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request with the user's token, refreshing (and persisting) as needed."""
        if timeout is _DEFAULT:
            timeout = self.default_timeout
        provider = self._context.state.provider
        provider.use_environment(url)
        self.proxies = provider.session.proxies
        self.credentials = refresh_credentials(self._context, self.credentials)
        sent = self.credentials.token
        response = super().request(
            method,
            url,
            data=data,
            headers=headers,
            max_allowed_time=max_allowed_time,
            timeout=timeout,
            **kwargs,
        )
        if response.status_code == 401:
            self.credentials = refresh_credentials(
                self._context, self.credentials, force=True, failed_token=sent
            )
            if self.credentials.token != sent:
                response.close()
                response = super().request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    max_allowed_time=max_allowed_time,
                    timeout=timeout,
                    **kwargs,
                )
        return response


def sign_in_url(state: Any, extra_scopes: Iterable[str] = ()) -> str:
    """Where to send a browser that has no usable credentials, to come back here.

    Signed in but the credentials are gone: through consent again (only a new
    consent brings a new refresh token, see :func:`reauthorization_url`).
    Signed in through ``POST /gsi`` (an ID token, no OAuth tokens): through
    ``/authorize`` with ``login_hint`` = the user's ``sub``, so Google skips
    its account chooser, asking for *extra_scopes* too. Otherwise
    ``/authorize?next=<this page>``, asking for *extra_scopes* in the same consent.
    """
    record = signed_in_record()
    scope = " ".join(extra_scopes) or None
    if record is not None and record.get("source") == "gsi":
        # Signed in through POST /gsi (no tokens yet): the same account, no chooser.
        hint = record.get("sub")
        return url_for(
            state.endpoint("authorize"), next=current_path(), scope=scope, login_hint=hint
        )
    if record is not None:
        return reauthorization_url(state)
    return url_for(state.endpoint("authorize"), next=current_path(), scope=scope)


def authorized_session() -> GoogleAuthorizedSession:
    """An authorized HTTP session for the signed-in user of the current request.

    :raises ReauthorizationRequired: nobody with credentials is signed in
        (the response is a ``302`` through ``/authorize`` back to this page).
    """
    credentials = current_credentials()
    if credentials is None:
        raise errors.ReauthorizationRequired(sign_in_url(app_state()))
    context = UserContext.current()
    return GoogleAuthorizedSession(
        credentials, context, timeout=context.state.settings.effective_api_timeout
    )
