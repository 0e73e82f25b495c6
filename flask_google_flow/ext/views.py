"""The blueprint: ``GET /authorize``, ``GET /oauth2callback``, ``POST /revoke``, ``POST /logout``.

``/authorize`` starts a sign-in: it makes a state, a PKCE verifier and an
OpenID nonce, keeps them server-side keyed by the state, and redirects to the
provider. ``/oauth2callback`` finishes it: it consumes the pending flow (once),
exchanges the code with the stored verifier, verifies the ID token, hands the
credentials to the store and redirects to ``next``.

``/revoke`` revokes the grant at the provider and forgets everything local;
``/logout`` only forgets this browser's session. Both are POST-only and
same-origin (:mod:`flask_google_flow.ext.origin`).

This is the one place where flow-layer exceptions become HTTP errors.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, redirect, request, session, url_for
from flask.sessions import SessionMixin
from werkzeug.datastructures import MultiDict

from ..core.id_token import verify_id_token
from ..core.provider import check_endpoint_url
from ..core.redirects import safe_next_url
from ..exceptions import (
    HostedDomainError,
    IDTokenError,
    ProviderError,
)
from ..flow import authorization_request_url, code_challenge_s256, parse_token_response
from . import errors, risc, signals
from .current import forget_current
from .decorators import remember_declined
from .origin import check_same_origin
from .pending import PendingFlow
from .state import EXTENSION_KEY, AppState, app_state
from .storage import SESSION_USER_KEY, CallbackCredentialStore, CredentialStore, kept_claims
from .user_sessions import remember_sign_in

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
    this request's host. Otherwise ``url_for(..., _external=True)``.
    """
    configured = state.settings.redirect_uri
    if configured:
        return configured
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


def _exchange_code(state: AppState, pending: PendingFlow, code: str) -> dict[str, Any]:
    """Exchange the code for tokens on the app's pooled session; the parsed token.

    One POST to the token endpoint with the pending flow's redirect URI and
    PKCE verifier, the client authenticated with HTTP Basic (as
    :meth:`~flask_google_flow.flow.Flow.fetch_token` does), redirects not
    followed; the answer is checked by
    :func:`~flask_google_flow.flow.parse_token_response`.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.code_verifier,
    }
    try:
        response = state.provider.post_form(
            state.metadata.token_endpoint, form, endpoint="token", auth=state.client_auth
        )
        return parse_token_response(response)
    except ProviderError as exc:
        _raise_provider_error(exc)


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
    flow_state = state.pending.begin(
        session,
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
    url = authorization_request_url(
        state.metadata.authorization_endpoint,
        state.client_id,
        redirect_uri=redirect_uri,
        scope=requested_scopes(state, extra),
        state=flow_state,
        code_challenge=code_challenge_s256(verifier),
        code_challenge_method="S256",
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
    try:
        return _finish_sign_in(state, app, session._get_current_object())
    except errors.GoogleFlowError as error:
        logger.info("flask-google-flow: sign-in failed (%s)", error.error_code)
        signals.login_failed.send(app, error=error)
        raise


def _finish_sign_in(state: AppState, app: Flask, sess: SessionMixin) -> Response:
    """The callback's work, on the request's app and session (each looked up once)."""
    args = request.args
    state_value = _param(args, "state")
    issuer = _param(args, "iss")
    code = _param(args, "code")
    error = _param(args, "error")
    if not state_value:
        raise errors.UnknownStateError()

    pending = state.pending.consume(sess, state_value, secret=app.secret_key)

    metadata = state.metadata
    if issuer is not None and issuer not in metadata.issuers:
        raise errors.IssuerMismatchError()
    if error is not None:
        if error == "access_denied":
            raise errors.AuthorizationDenied()
        raise errors.AuthorizationFailed(error)
    if not code:
        raise errors.InvalidRequestError("The sign-in response has no authorization code.")

    scopes = requested_scopes(state, pending.extra_scopes)
    token = _exchange_code(state, pending, code)

    id_info: dict[str, Any] = {}
    if "openid" in scopes:
        id_info = _verify_id_token(state, token.get("id_token"), pending.nonce)

    store = state.credential_store()
    refresh_token = token.get("refresh_token") or _stored_refresh_token(
        store, sess, id_info.get("sub")
    )
    credentials = state.new_credentials(token, scopes, refresh_token)
    try:
        response = store.save(sess, credentials, id_info)
    except Exception as exc:
        logger.exception("flask-google-flow: the store callback raised; nothing was kept")
        raise errors.StoreFailed() from exc

    granted = list(credentials.granted_scopes or scopes)
    sess[SESSION_USER_KEY] = {
        "sub": id_info.get("sub"),
        "claims": kept_claims(id_info),
        "scopes": granted,
        "requested": list(scopes),
    }
    remember_sign_in(app, sess, id_info.get("sub"), credentials)
    remember_declined(sess, pending.next_url, scopes, granted)
    forget_current()
    _rotate_session_id(app, sess)
    signals.login_succeeded.send(
        app,
        credentials=credentials,
        id_info=id_info,
        granted_scopes=granted,
        requested_scopes=scopes,
    )
    if response is not None:
        return errors.no_store(app.make_response(response))
    return errors.no_store(redirect(pending.next_url, code=302))


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


def _verify_id_token(state: AppState, raw: Any, nonce: str) -> dict[str, Any]:
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
        raise errors.HostedDomainNotAllowed() from None
    except IDTokenError as exc:
        logger.warning("flask-google-flow: ID token rejected (%s)", exc.reason)
        raise errors.InvalidIDTokenError(reason=exc.reason) from None
    except ProviderError as exc:
        _raise_provider_error(exc)


def _raise_provider_error(exc: ProviderError) -> NoReturn:
    """Raise the HTTP error matching a flow-layer provider error."""
    raise errors.http_error_for(exc) from None


def _rotate_session_id(app: Flask, sess: SessionMixin) -> None:
    """Give the signed-in session a new id (session-fixation defence)."""
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
