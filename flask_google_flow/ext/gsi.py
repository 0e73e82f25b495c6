"""``POST /gsi``: sign-in with a Google Identity Services credential (button, One Tap, FedCM).

The page shows Google's "Sign in with Google" button or One Tap prompt
(:mod:`flask_google_flow.ext.gsi_markup`); when the user picks an account,
Google's script posts a form to this route with the ID token (``credential``)
and a ``g_csrf_token`` field it also set as a cookie. The route accepts it
only if, in this order:

1. every field is present at most once and within its size limit
   (``field``);
2. the request comes from this app's origin or one of
   ``GOOGLE_FLOW_GSI_ALLOWED_ORIGINS`` — Google's, which posts itself in
   ``ux_mode=redirect`` (``origin``);
3. the ``g_csrf_token`` cookie and form field are both there and equal,
   compared in constant time (``csrf``);
4. the ID token verifies exactly as in the redirect flow — the same
   ``_verify_id_token`` with the app's cached certs: RS256 signature, ``iss``,
   ``aud``/``azp`` = the client id, ``exp``/``iat`` with
   ``GOOGLE_FLOW_CLOCK_SKEW``, ``hd`` when configured;
5. its ``nonce`` names a page this browser session was shown: the nonce
   record is popped from the pending-flow store (single use, with the pending
   flows' time-to-live), so a captured credential cannot be replayed
   (``nonce``).

Any refusal is a :class:`~flask_google_flow.ext.errors.GISSignInRefused`
(400) with one WARNING naming the failed check, and nothing is stored. Then
the sign-in finishes exactly as ``/oauth2callback`` does
(:func:`~flask_google_flow.ext.views.complete_sign_in`), with
``store(None, id_info)``: this path brings no OAuth tokens.

Nonce records reuse the pending-flow machinery (:mod:`.pending`): a record is
a :class:`~flask_google_flow.ext.pending.PendingFlow` with no code verifier
and no redirect URI, keyed — like a pending flow by its ``state`` — by the
nonce itself, bound to the browser session. ``/oauth2callback`` refuses such
a record and ``/gsi`` refuses a redirect flow's record.
"""

from __future__ import annotations

import functools
import hmac
import logging
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask.sessions import SessionMixin

from ..core.redirects import safe_next_url
from . import errors, signals
from .origin import claimed_origin, origin_of
from .pending import PendingFlow
from .state import AppState, app_state
from .storage import SESSION_USER_KEY
from .views import _verify_id_token, complete_sign_in

__all__ = ["CSRF_COOKIE", "MAX_LENGTH", "gsi", "issue_nonce", "page_nonce"]

logger = logging.getLogger("flask_google_flow")

#: Name of the double-submit cookie and form field Google's script sets.
CSRF_COOKIE = "g_csrf_token"

#: Longest value accepted for each field; longer is refused (``field``).
MAX_LENGTH = {
    "credential": 16384,
    CSRF_COOKIE: 256,
    "select_by": 64,
    "body": 65536,
}

_G_KEY = "_google_flow_gsi_nonce"


def issue_nonce(app: Flask, sess: SessionMixin, next_url: str | None = None) -> str:
    """Create a single-use GIS nonce in *sess* and return it.

    :param app: the app (its state and secret key).
    :param sess: the browser session the page is rendered for.
    :param next_url: where ``POST /gsi`` sends the browser afterwards; checked
        with the ``next`` rule (``GOOGLE_FLOW_DEFAULT_NEXT`` when refused).
    :raises SessionUnavailable: the session backend cannot be reached.
    """
    state = app_state(app)
    record = PendingFlow(
        code_verifier="",
        nonce="",
        next_url=safe_next_url(next_url, default=state.settings.default_next),
        extra_scopes=(),
        redirect_uri="",
    )
    return state.pending.begin(sess, record, secret=app.secret_key)


def page_nonce(next_url: str | None = None) -> str:
    """The nonce of the page being rendered: made on first use, then the same.

    One nonce per rendered page (per request), shared by its button and its
    One Tap prompt. *next_url* counts on the first call only.
    """
    nonce = g.get(_G_KEY)
    if nonce is None:
        app = current_app._get_current_object()
        nonce = issue_nonce(app, session._get_current_object(), next_url)
        setattr(g, _G_KEY, nonce)
    return nonce


def _refuse(reason: str, *, description: str | None = None) -> Any:
    logger.warning("flask-google-flow: GIS sign-in refused (%s)", reason)
    return errors.GISSignInRefused(reason, description)


def _field(name: str, reason: str = "field") -> str:
    """The form field *name*: present exactly once, non-empty, ASCII, within its limit."""
    values = request.form.getlist(name)
    if len(values) != 1 or not values[0]:
        raise _refuse(reason)
    value = values[0]
    if len(value) > MAX_LENGTH[name] or not value.isascii():
        raise _refuse(reason)
    return value


def _check_origin(state: AppState) -> None:
    """This app's origin or an allowed one, by ``Origin`` (without one: ``Referer``)."""
    claimed = claimed_origin()
    if claimed is None or (
        claimed != _own_origin(request.host_url)
        and claimed not in _allowed_origins(state.settings.gsi_allowed_origins)
    ):
        raise _refuse("origin")


@functools.lru_cache(maxsize=64)
def _own_origin(host_url: str) -> tuple[str, str, int] | None:
    return origin_of(host_url)


@functools.lru_cache(maxsize=16)
def _allowed_origins(origins: tuple[str, ...]) -> frozenset[tuple[str, str, int]]:
    return frozenset(o for o in map(origin_of, origins) if o is not None)


def _check_csrf() -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or len(cookie) > MAX_LENGTH[CSRF_COOKIE] or not cookie.isascii():
        raise _refuse("csrf")
    submitted = _field(CSRF_COOKIE, "csrf")
    if not hmac.compare_digest(cookie.encode("ascii"), submitted.encode("ascii")):
        raise _refuse("csrf")


def _verified_claims(state: AppState, credential: str) -> dict[str, Any]:
    try:
        return _verify_id_token(state, credential, None)
    except errors.HostedDomainNotAllowed:
        raise _refuse(
            "hosted_domain", description=errors.HostedDomainNotAllowed.description
        ) from None
    except errors.InvalidIDTokenError as exc:
        raise _refuse(exc.reason) from None


def _consume_nonce(state: AppState, app: Flask, sess: SessionMixin, claims: dict) -> PendingFlow:
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise _refuse("nonce")
    try:
        record = state.pending.consume(sess, nonce, secret=app.secret_key)
    except errors.UnknownStateError:
        raise _refuse("nonce") from None
    if record.code_verifier or record.redirect_uri:  # a redirect flow's state, not a GIS nonce
        raise _refuse("nonce")
    return record


def _sign_in(state: AppState, app: Flask, sess: SessionMixin) -> Response:
    if (request.content_length or 0) > MAX_LENGTH["body"]:
        raise _refuse("field")
    _check_origin(state)
    _check_csrf()
    credential = _field("credential")
    if "select_by" in request.form:
        _field("select_by")
    claims = _verified_claims(state, credential)
    record = _consume_nonce(state, app, sess, claims)
    previous = sess.get(SESSION_USER_KEY)
    scopes: list[str] = []
    if isinstance(previous, dict) and previous.get("sub") == claims.get("sub"):
        scopes = list(previous.get("scopes") or ())
    return complete_sign_in(state, app, sess, None, claims, scopes, record.next_url)


def gsi() -> Response:
    """``POST /gsi``: verify a GIS credential and sign the browser in (see the module).

    :raises GISSignInRefused: (400) a check failed; nothing was stored.
    """
    app = current_app._get_current_object()
    state = app_state(app)
    try:
        return _sign_in(state, app, session._get_current_object())
    except errors.GoogleFlowError as error:
        logger.info("flask-google-flow: sign-in failed (%s)", error.error_code)
        signals.login_failed.send(app, error=error)
        raise
