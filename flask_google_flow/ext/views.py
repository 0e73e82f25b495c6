"""The blueprint: ``GET /authorize``, ``GET /oauth2callback``, ``POST /revoke``, ``POST /logout``.

Each sign-in runs web-type :class:`~flask_google_flow.flow.Flow` objects,
built per request. ``/authorize`` makes a PKCE verifier and an OpenID
nonce, keeps them server-side keyed by a new state, and redirects to
``flow.authorization_url(state=...)`` of a flow made by
:func:`authorization_flow`. ``/oauth2callback`` consumes the
pending flow (once), builds a flow with its redirect URI and verifier
(:func:`new_flow`, :meth:`~flask_google_flow.flow.Flow.from_client_config`),
exchanges the code with ``flow.fetch_token(code=...)``, verifies the ID
token, hands ``flow.credentials`` to the store and redirects to ``next``.

``/revoke`` revokes the grant at the provider and forgets everything local;
``/logout`` only forgets this browser's session. Both are POST-only and
same-origin (:mod:`flask_google_flow.ext.origin`).

This is the one place where flow-layer exceptions become HTTP errors.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, redirect, request, session, url_for
from flask.sessions import SessionMixin
from werkzeug.datastructures import MultiDict

from ..core.id_token import verify_id_token
from ..core.oauth_client import build_session
from ..core.provider import check_endpoint_url
from ..core.redirects import safe_next_url
from ..exceptions import (
    HostedDomainError,
    IDTokenError,
    InsecureTransportError,
    ProviderError,
)
from ..flow import Flow
from . import errors, handoff, risc, signals
from .current import forget_current
from .decorators import remember_declined
from .diagnostics import host_mismatch, log_refusal, remember_start_host
from .origin import check_same_origin
from .pending import BINDING_SESSION_KEY, PendingFlow
from .resilience import discard_session_changes, on_session_save_failure
from .state import EXTENSION_KEY, AppState, app_state
from .storage import SESSION_USER_KEY, CallbackCredentialStore, CredentialStore, kept_claims
from .user_sessions import remember_sign_in

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials
    from requests_oauthlib import OAuth2Session

logger = logging.getLogger("flask_google_flow")

_PROMPT_VALUES = frozenset({"none", "consent", "select_account"})

#: Longest value accepted for each parameter we read; longer is a 400.
_MAX_LENGTH = {
    "state": 256,
    "code": 2048,
    "iss": 512,
    "error": 128,
    "scope": 2048,
    "login_hint": 320,
    "prompt": 64,
}


def make_blueprint(name: str = "google_flow") -> Blueprint:
    """A blueprint with the routes ``authorize``, ``oauth2callback``, ``revoke``, ``logout``."""
    blueprint = Blueprint(name, __name__)
    blueprint.add_url_rule("/authorize", "authorize", authorize, methods=["GET"])
    blueprint.add_url_rule("/oauth2callback", "oauth2callback", oauth2callback, methods=["GET"])
    blueprint.add_url_rule("/revoke", "revoke", revoke, methods=["POST"])
    blueprint.add_url_rule("/logout", "logout", logout, methods=["POST"])
    blueprint.record(_remember_endpoint_prefix)
    blueprint.record(risc.setup)  # POST /risc, only with GOOGLE_FLOW_RISC_ENABLED
    return blueprint


def _remember_endpoint_prefix(setup_state: Any) -> None:
    """Record the blueprint's full (possibly nested) name for ``url_for``."""
    state = setup_state.app.extensions.get(EXTENSION_KEY)
    if state is not None:
        prefix = getattr(setup_state, "name_prefix", "")
        name = setup_state.name
        state.endpoint_prefix = f"{prefix}.{name}".lstrip(".") if prefix else name


# -- parameters ----------------------------------------------------------------


def _param(args: MultiDict[str, str], name: str, *, charset: str | None = "token") -> str | None:
    """One query parameter, present at most once.

    ``charset="token"``: printable ASCII without spaces and at most
    ``_MAX_LENGTH[name]`` long; ``"text"``: any printable text of that length;
    ``None``: no check here (the caller applies its own rule, e.g. ``next``).
    """
    if name not in args:
        return None
    values = args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise errors.InvalidRequestError(f"The parameter '{name}' was sent more than once.")
    value = values[0]
    if charset is None:
        return value
    if len(value) > _MAX_LENGTH[name]:
        raise errors.InvalidRequestError(f"The parameter '{name}' is too long.")
    if charset == "token":
        ok = value.isascii() and value.isprintable() and " " not in value
    else:
        ok = value.isprintable()
    if not ok:
        raise errors.InvalidRequestError(
            f"The parameter '{name}' has characters that are not allowed."
        )
    return value


def _requested_extra_scopes(state: AppState, raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    base = state.settings.scopes
    allowed = set(base) | set(state.settings.extra_scopes) | state.extension.required_scopes
    extra: list[str] = []
    for scope in raw.replace(",", " ").split():
        if scope not in allowed:
            raise errors.InvalidRequestError(
                "The requested permission is not one this site may ask for."
            )
        if scope not in base and scope not in extra:
            extra.append(scope)
    return tuple(extra)


def _prompt(state: AppState, raw: str | None) -> str | None:
    if raw is None:
        return state.settings.prompt
    values = raw.split()
    if not values or not set(values) <= _PROMPT_VALUES or ("none" in values and len(values) > 1):
        raise errors.InvalidRequestError("The parameter 'prompt' has a value that is not allowed.")
    return " ".join(values)


def requested_scopes(state: AppState, extra: Iterable[str] = ()) -> list[str]:
    """The configured scopes followed by *extra* ones, without duplicates."""
    scopes = list(state.settings.scopes)
    scopes.extend(s for s in extra if s not in scopes)
    return scopes


def _redirect_uri(state: AppState) -> str:
    """The redirect URI of this sign-in.

    An explicit ``GOOGLE_FLOW_REDIRECT_URI`` wins. Otherwise the client
    secrets' ``redirect_uris`` entry whose path is the callback route: the only
    one, or — when several share the path (local and production) — the one on
    this request's host. Otherwise ``url_for(..., _external=True)``. The
    choice depends only on the request's script root, host and scheme, so it
    is made once for each and remembered.
    """
    configured = state.settings.redirect_uri
    if configured:
        return configured
    key = (request.script_root, request.host.lower(), request.scheme)
    return _remembered(
        state.redirect_uri_choices, key, lambda: _choose_redirect_uri(state), limit=256
    )


def _remembered(cache: dict[Any, Any], key: Any, make: Callable[[], Any], *, limit: int) -> Any:
    """``cache[key]``, made with *make* the first time.

    The keys follow the requests (their host), so the cache is emptied when it
    holds *limit* entries instead of growing without bound.
    """
    value = cache.get(key)
    if value is None:
        value = make()
        if len(cache) >= limit:
            cache.clear()
        cache[key] = value
    return value


def _choose_redirect_uri(state: AppState) -> str:
    endpoint = state.endpoint("oauth2callback")
    candidates = state.redirect_uris_by_path.get(url_for(endpoint), ())
    if len(candidates) == 1:
        return candidates[0].uri
    host = request.host.lower()
    same_host = [entry for entry in candidates if entry.netloc == host]
    for entry in same_host:
        if entry.scheme == request.scheme:
            return entry.uri
    if same_host:
        return same_host[0].uri
    return url_for(endpoint, _external=True)


@functools.lru_cache(maxsize=64)
def _checked_redirect_uri(uri: str) -> str:
    """*uri* after :func:`check_endpoint_url`; URIs that passed are remembered.

    A sign-in's redirect URI is one of a few per app (configured, registered
    or this app's own callback URL), so each is parsed once, not per sign-in.
    A URI that fails raises every time (exceptions are not cached).
    """
    return check_endpoint_url(uri, name="redirect URI")


def new_flow(state: AppState, scopes: list[str], redirect_uri: str, code_verifier: str) -> Flow:
    """The web-type :class:`~flask_google_flow.flow.Flow` that finishes one sign-in.

    On an ``OAuth2Session`` of its own (it sends the token request and keeps
    that one sign-in's token and cookies), built as
    :meth:`~flask_google_flow.flow.Flow.from_client_config` builds one but
    from the client configuration already checked at ``init_app`` (with the
    endpoints in force,
    :attr:`~flask_google_flow.ext.state.AppState.flow_client_config`), the
    given redirect URI and PKCE verifier, and ``GOOGLE_FLOW_HTTP_TIMEOUT``. The
    session borrows the app's pooled keep-alive connections and transport
    settings (CA bundle, client certificate, proxies) through
    :meth:`~flask_google_flow.core.provider.ProviderClient.mount`.
    """
    session = _flow_session(state, scopes, redirect_uri)
    state.provider.mount(session)
    return _web_flow(state, session, redirect_uri, code_verifier)


def authorization_flow(
    state: AppState, scopes: list[str], redirect_uri: str, code_verifier: str
) -> Flow:
    """The web-type :class:`~flask_google_flow.flow.Flow` that starts one sign-in.

    A flow of its own per sign-in (its verifier, the state it is given), on
    an ``OAuth2Session`` shared by the sign-ins with the same scopes and
    redirect URI: building the authorization URL for a given ``state`` sends
    no request and changes nothing on the session
    (:meth:`requests_oauthlib.OAuth2Session.authorization_url` reads its
    client id, ``scope`` and ``redirect_uri``), so that session is made once,
    not per sign-in. The callback's flow (:func:`new_flow`) has a session of
    its own.
    """
    session = _remembered(
        state.authorization_sessions,
        (tuple(scopes), redirect_uri),
        lambda: _flow_session(state, scopes, redirect_uri),
        limit=64,
    )
    return _web_flow(state, session, redirect_uri, code_verifier)


def _flow_session(state: AppState, scopes: list[str], redirect_uri: str) -> OAuth2Session:
    return build_session(
        state.client_id,
        list(scopes),
        redirect_uri=redirect_uri,
        timeout=state.settings.http_timeout,
        clock=state.clock,
    )


def _web_flow(state: AppState, session: OAuth2Session, redirect_uri: str, verifier: str) -> Flow:
    return Flow(
        session,
        state.client_type,
        state.flow_client_config,
        redirect_uri,
        verifier,
        autogenerate_code_verifier=False,
        timeout=state.settings.http_timeout,
        clock=state.clock,
    )


def _fetch_token(flow: Flow, code: str) -> dict[str, Any]:
    """``flow.fetch_token(code=...)``, its failures as HTTP errors."""
    try:
        return flow.fetch_token(code=code)
    except ProviderError as exc:
        _raise_provider_error(exc)
    except InsecureTransportError:
        # Checked at init_app for the app's own settings: this endpoint came
        # from the provider (discovery), so it is the provider's fault.
        logger.warning("flask-google-flow: the token endpoint is not acceptable (plain http)")
        raise errors.ProviderUnavailable() from None


# -- /authorize ----------------------------------------------------------------


def authorize() -> Response:
    """Start a sign-in and redirect (302) to the provider.

    Query parameters: ``next`` (a same-origin relative path to return to),
    ``scope`` (extra scopes from the allow-list, for incremental
    authorization), ``login_hint``, ``prompt``. Anything else is ignored.
    """
    if request.method == "HEAD":
        return errors.no_store(Response(status=200))
    app = current_app._get_current_object()
    state = app_state(app)
    settings = state.settings
    args = request.args
    next_url = safe_next_url(_param(args, "next", charset=None), default=settings.default_next)
    extra = _requested_extra_scopes(state, _param(args, "scope", charset="text"))
    login_hint = _param(args, "login_hint", charset="text")
    prompt = _prompt(state, _param(args, "prompt", charset="text"))

    redirect_uri = _checked_redirect_uri(_redirect_uri(state))
    verifier = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(16)
    flow = authorization_flow(state, requested_scopes(state, extra), redirect_uri, verifier)
    flow_state = state.pending.begin(
        session._get_current_object(),
        PendingFlow(
            code_verifier=verifier,
            nonce=nonce,
            next_url=next_url,
            extra_scopes=extra,
            redirect_uri=redirect_uri,
            expires_at=0,
        ),
        secret=app.secret_key,
    )
    remember_start_host(state, flow_state, request.host, redirect_uri)
    url, _state = flow.authorization_url(
        state=flow_state,
        nonce=nonce,
        access_type=settings.access_type,
        prompt=prompt,
        login_hint=login_hint,
        hd=settings.hosted_domain,
        include_granted_scopes="true" if extra else None,
    )
    return errors.no_store(redirect(url, code=302))


# -- /oauth2callback -----------------------------------------------------------


def oauth2callback() -> Response:
    """Finish a sign-in: verify, exchange, verify the ID token, store, redirect.

    Every failure raises a :class:`~flask_google_flow.ext.errors.GoogleFlowError`
    and sends :data:`~flask_google_flow.ext.signals.login_failed`.
    """
    if request.method == "HEAD":
        return errors.no_store(Response(status=200))
    app = current_app._get_current_object()
    state = app_state(app)
    progress = _Progress()
    try:
        try:
            return _finish_sign_in(state, app, session._get_current_object(), progress)
        except errors.UnknownStateError as error:
            mismatch = host_mismatch(state, error, request.args.get("state"), request.host)
            if mismatch is None:
                raise
            raise mismatch from None
    except errors.GoogleFlowError as error:
        if error.offer_sign_in and error.sign_in_url is None:
            error.sign_in_url = _sign_in_again_url(state, error.next_url)
        _report_failure(app, error, progress)
        raise


def _sign_in_again_url(state: AppState, next_url: str | None) -> str:
    """``/authorize`` back to the failed sign-in's ``next`` (the error pages' link)."""
    endpoint = state.endpoint("authorize")
    if next_url and next_url != state.settings.default_next:
        return url_for(endpoint, next=next_url)
    return url_for(endpoint)


class _Progress:
    """How far one sign-in got: whether ``store`` ran, and for whom (per request)."""

    __slots__ = ("id_info", "reported", "store_ran")

    def __init__(self) -> None:
        self.store_ran = False
        self.reported = False
        self.id_info: dict[str, Any] = {}


def _report_failure(app: Flask, error: errors.GoogleFlowError, progress: _Progress) -> None:
    """Log a failed sign-in and send ``login_failed`` (with ``store_ran``, see signals), once."""
    if progress.reported:
        return
    progress.reported = True
    if progress.store_ran:
        logger.warning(
            "flask-google-flow: sign-in failed after the store callback ran (%s): %s; "
            "login_failed is sent with store_ran=True",
            error.error_code,
            error.detail or error.title,
        )
    else:
        log_refusal(error)
    signals.login_failed.send(
        app,
        error=error,
        store_ran=progress.store_ran,
        id_info=progress.id_info if progress.store_ran else {},
        reason=error.error_code,
    )


def _consume_pending(
    state: AppState, app: Flask, sess: SessionMixin, state_value: str
) -> PendingFlow:
    """Consume the callback's pending flow, through a rotation hand-off if needed.

    A callback whose cookie names a session another callback of the same
    browser has just rotated away finds its flow with the old session's
    binding (:mod:`flask_google_flow.ext.handoff`).
    """
    store = state.pending.store
    now = state.clock()
    claimed = None
    if state.settings.rotation_grace > 0:
        claimed = handoff.claim(
            app, request, sess, store, limit=state.settings.max_pending, now=now
        )
    if claimed is None:
        return state.pending.consume(sess, state_value, secret=app.secret_key)
    try:
        return state.pending.consume(
            {BINDING_SESSION_KEY: claimed.binding}, state_value, secret=app.secret_key
        )
    except errors.UnknownStateError:
        handoff.release(store, claimed, now=now)
        raise


def _finish_sign_in(
    state: AppState, app: Flask, sess: SessionMixin, progress: _Progress
) -> Response:
    """The callback's work, on the request's app and session (each looked up once).

    The order: pending flow consumed → code exchanged → ID token verified →
    ``store`` → session written (user record, new id) → redirect. A failure
    after ``store`` ran (the session cannot be rotated, or saved once the
    view returned) answers 503 and sends ``login_failed`` with
    ``store_ran=True`` and the verified ``id_info``, so the app can undo.
    """
    args = request.args
    state_value = _param(args, "state")
    issuer = _param(args, "iss")
    code = _param(args, "code")
    error = _param(args, "error")
    if not state_value:
        raise errors.UnknownStateError(reason="missing")

    pending = _consume_pending(state, app, sess, state_value)
    if not pending.code_verifier:  # a GIS nonce record (ext/gsi.py), not a redirect flow
        raise errors.UnknownStateError(reason="unknown")
    try:
        return _finish_pending(
            state, app, sess, pending, progress, issuer=issuer, code=code, error=error
        )
    except errors.GoogleFlowError as failure:
        failure.next_url = pending.next_url
        raise


def _finish_pending(
    state: AppState,
    app: Flask,
    sess: SessionMixin,
    pending: PendingFlow,
    progress: _Progress,
    *,
    issuer: str | None,
    code: str | None,
    error: str | None,
) -> Response:
    """The callback's work once its pending flow is consumed."""
    metadata = _metadata(state)
    if issuer is not None and issuer not in metadata.issuers:
        mismatch = errors.IssuerMismatchError()
        mismatch.detail = (
            f"the callback's iss {issuer[:100]!r} is not the provider's issuer "
            f"({', '.join(metadata.issuers)})"
        )
        raise mismatch
    if error is not None:
        if error == "access_denied":
            raise errors.AuthorizationDenied()
        raise errors.AuthorizationFailed(error)
    if not code:
        raise errors.InvalidRequestError("The sign-in response has no authorization code.")

    scopes = requested_scopes(state, pending.extra_scopes)
    flow = new_flow(state, scopes, pending.redirect_uri, pending.code_verifier)
    token = _fetch_token(flow, code)

    id_info: dict[str, Any] = {}
    if "openid" in scopes:
        id_info = _verify_id_token(state, token.get("id_token"), pending.nonce)

    store = state.credential_store()
    if not token.get("refresh_token"):
        carried = _stored_refresh_token(store, sess, id_info.get("sub"))
        if carried:
            # On the flow's session (its public ``token``), so ``flow.credentials``
            # stays the one place credentials are made.
            flow.oauth2session.token = {**token, "refresh_token": carried}
    credentials = flow.credentials
    return complete_sign_in(
        state, app, sess, credentials, id_info, scopes, pending.next_url, progress=progress
    )


def complete_sign_in(
    state: AppState,
    app: Flask,
    sess: SessionMixin,
    credentials: Credentials | None,
    id_info: dict[str, Any],
    scopes: list[str],
    next_url: str,
    *,
    progress: _Progress | None = None,
) -> Response:
    """The last step of every sign-in, once the ID token is verified.

    Store → session record → new session id → ``login_succeeded`` → redirect
    to *next_url* (or the store's own response). Used by ``/oauth2callback``
    and by ``POST /gsi``; the latter has no OAuth tokens, so *credentials* is
    ``None`` there, *scopes* are the scopes already granted to this user in
    this session (or none), and the record is marked ``"source": "gsi"``.
    *progress* records that ``store`` ran, for ``login_failed(store_ran=True)``
    when the session cannot be written afterwards.
    """
    progress = progress if progress is not None else _Progress()
    store = state.credential_store()
    try:
        response = store.save(sess, credentials, id_info)
    except Exception as exc:
        logger.exception("flask-google-flow: the store callback raised; nothing was kept")
        raise errors.StoreFailed() from exc
    progress.store_ran = True
    progress.id_info = id_info
    on_session_save_failure(functools.partial(_session_not_saved, app, progress))

    granted = list(scopes if credentials is None else credentials.granted_scopes or scopes)
    record = {
        "sub": id_info.get("sub"),
        "claims": kept_claims(id_info),
        "scopes": granted,
        "requested": list(scopes),
    }
    if credentials is None:
        record["source"] = "gsi"
    sess[SESSION_USER_KEY] = record
    remember_sign_in(app, sess, id_info.get("sub"), credentials)
    if credentials is not None:
        remember_declined(sess, next_url, scopes, granted)
    forget_current()
    try:
        handoff.leave(
            app,
            request,
            sess,
            state.pending.store,
            grace=state.settings.rotation_grace,
            now=state.clock(),
        )
        _rotate_session_id(app, sess)
    except errors.SessionUnavailable:
        discard_session_changes()  # never save a signed-in session under its old id
        raise
    signals.login_succeeded.send(
        app,
        credentials=credentials,
        id_info=id_info,
        granted_scopes=granted,
        requested_scopes=scopes,
    )
    if response is not None:  # the store answered the callback itself
        return errors.no_store(response)
    return errors.no_store(redirect(next_url, code=302))


def _stored_refresh_token(
    store: CredentialStore, sess: SessionMixin, sub: str | None
) -> str | None:
    """The stored refresh token to carry over when a consent returned none.

    Google issues a refresh token only on an account's first consent (or with
    ``prompt=consent``); after an incremental consent
    (``include_granted_scopes=true``) the earlier refresh token stays valid and
    covers the combined grant, so it must not be lost.

    :returns: the refresh token of the user's stored credentials, or ``None``
        (no user, another user's session, nothing stored, or ``load`` raised).
    """
    if not sub:
        return None
    record = sess.get(SESSION_USER_KEY)
    own_database = isinstance(store, CallbackCredentialStore) and store.load_callback is not None
    same_user = isinstance(record, dict) and record.get("sub") == sub
    if not (own_database or same_user):
        return None
    try:
        previous = store.load(sess, sub)
    except Exception:
        logger.exception("flask-google-flow: the load callback raised during sign-in")
        return None
    return previous.refresh_token if previous is not None else None


def _verify_id_token(state: AppState, raw: Any, nonce: str | None) -> dict[str, Any]:
    if not raw or not isinstance(raw, str):
        raise errors.InvalidIDTokenError(reason="missing")
    settings = state.settings
    try:
        return verify_id_token(
            raw,
            certs=state.provider.certs,
            audience=state.client_id,
            issuers=state.metadata.issuers,
            nonce=nonce,
            hosted_domain=settings.hosted_domain,
            leeway=settings.clock_skew,
            now=state.clock(),
        )
    except HostedDomainError:
        refused = errors.HostedDomainNotAllowed()
        refused.detail = "the ID token's hd claim is not GOOGLE_FLOW_HOSTED_DOMAIN"
        raise refused from None
    except IDTokenError as exc:
        raise errors.InvalidIDTokenError(reason=exc.reason) from None
    except ProviderError as exc:
        _raise_provider_error(exc)


def _raise_provider_error(exc: ProviderError) -> NoReturn:
    """Raise the HTTP error matching a flow-layer provider error (the callback logs it)."""
    raise errors.http_error_for(exc, log=False) from None


def _metadata(state: AppState) -> Any:
    """The provider's endpoints; a discovery failure is logged once, by the callback."""
    try:
        return state.provider.metadata
    except ProviderError as exc:
        _raise_provider_error(exc)


def _session_not_saved(app: Flask, progress: _Progress, exc: BaseException) -> None:
    """The signed-in session could not be saved after the view returned (the answer is 503)."""
    _report_failure(app, errors.SessionUnavailable(), progress)


def _rotate_session_id(app: Flask, sess: SessionMixin) -> None:
    """Give the signed-in session a new id (session-fixation defence).

    :raises SessionUnavailable: the session backend failed (the guard's ``regenerate``).
    """
    regenerate = getattr(app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(sess)


# -- POST /revoke and POST /logout ------------------------------------------------


def _next_after_post(state: AppState) -> str:
    raw = request.form.get("next") or request.args.get("next")
    return safe_next_url(raw, default=state.settings.default_next)


def _with_status(url: str, name: str, value: str) -> str:
    if not name:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({name: value})}"


def _end_session() -> None:
    """Forget this browser's session: new id first, then empty (deleted server-side)."""
    _rotate_session_id(current_app, session)
    session.clear()
    forget_current()


def revoke() -> Response:
    """``POST /revoke``: revoke the grant at the provider, then forget everything local.

    The refresh token (else the access token) is sent to the revocation
    endpoint in the form body. Whatever the provider answers — or if it fails
    or times out — the stored credentials are deleted (the ``delete``
    callback for app-managed storage) and the session is cleared with a new
    id. The browser is sent to the validated ``next`` (form field or query)
    with ``GOOGLE_FLOW_REVOKE_STATUS_PARAM`` (default ``google_flow_revoke``)
    set to ``revoked``, ``invalid``, ``failed`` (the provider, or the app's
    ``load`` callback, failed: the grant may still be live) or ``none``, and
    :data:`~flask_google_flow.ext.signals.credentials_revoked` is sent.
    """
    check_same_origin()
    state = app_state()
    next_url = _next_after_post(state)
    record = session.get(SESSION_USER_KEY)
    sub = record.get("sub") if isinstance(record, dict) else None
    store = state.credential_store()
    outcome = "none"
    try:
        credentials = store.load(session, sub) if isinstance(record, dict) else None
    except Exception:
        logger.exception("flask-google-flow: the load callback raised during revoke")
        credentials = None
        outcome = "failed"  # something may be stored and live at the provider

    revoked = False
    token = (credentials.refresh_token or credentials.token) if credentials else None
    if token:
        try:
            revoked = state.provider.revoke(token)
            outcome = "revoked" if revoked else "invalid"
        except ProviderError as exc:
            # Failed, timed out or garbled: the grant may still be live at the provider.
            logger.warning(
                "flask-google-flow: revoking at the provider failed (%s); "
                "local credentials are cleared anyway",
                type(exc).__name__,
            )
            outcome = "failed"

    if isinstance(record, dict):
        try:
            store.delete(session, sub)
        except Exception:
            logger.exception("flask-google-flow: the delete callback raised during revoke")
    _end_session()
    signals.credentials_revoked.send(
        current_app._get_current_object(), sub=sub, revoked=revoked, outcome=outcome
    )
    location = _with_status(next_url, state.settings.revoke_status_param, outcome)
    return errors.no_store(redirect(location, code=302))


def logout() -> Response:
    """``POST /logout``: clear this browser's session (with a new id), revoke nothing.

    Credentials in app-managed storage stay (the ``delete`` callback is not
    called); credentials kept in the session go with it. Redirects to the
    validated ``next`` (form field or query) and sends
    :data:`~flask_google_flow.ext.signals.logged_out`.
    """
    check_same_origin()
    state = app_state()
    next_url = _next_after_post(state)
    record = session.get(SESSION_USER_KEY)
    sub = record.get("sub") if isinstance(record, dict) else None
    _end_session()
    signals.logged_out.send(current_app._get_current_object(), sub=sub)
    return errors.no_store(redirect(next_url, code=302))
