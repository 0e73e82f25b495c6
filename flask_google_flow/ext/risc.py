"""``POST {prefix}/risc``: Google's Cross-Account Protection security events (RFC 8417/8935).

Registered on the blueprint only while ``GOOGLE_FLOW_RISC_ENABLED`` is on
(:func:`setup`, a deferred blueprint function). The view reads the body (at
most :data:`~flask_google_flow.core.security_events.MAX_SET_LENGTH` bytes),
verifies the SET (:func:`~flask_google_flow.core.security_events.verify_security_event_token`
with the RISC configuration's keys and issuer, ``aud`` one of our client ids,
``iat`` fresh), records its ``jti`` once, acts on each event and answers
``202``. A refused SET gets ``400`` with the RFC 8935 error object
``{"err": ..., "description": ...}`` and nothing is done. A SET whose ``jti``
was already received (Google redelivers when it saw no ``202``) is
acknowledged with ``202`` and nothing is done again.

The view never touches the session (no ``Set-Cookie``), is not subject to the
same-origin check of ``/logout`` and ``/revoke``, and is exempted from
Flask-WTF's ``CSRFProtect`` when that is set up before ``init_app``.

What each event does (then the per-type signal and
:data:`~flask_google_flow.ext.signals.security_event_received` are sent):

======================================  ===============================================
event                                   action
======================================  ===============================================
``sessions-revoked``                    end the user's sessions
``tokens-revoked``                      end the user's sessions, delete credentials
``token-revoked`` (refresh token)       if the token is one we indexed at sign-in:
                                        end the user's sessions, delete credentials
``account-disabled`` ``hijacking``      end the user's sessions, delete credentials
``account-disabled`` without reason     the same
``account-disabled`` ``bulk-account``   nothing (signal only)
``account-enabled``                     nothing (signal only)
``account-credential-change-required``  nothing (signal only)
``verification``                        log the ``state``
any other type                          log it
======================================  ===============================================

"Delete credentials" is the ``delete`` callback (``delete(sub)``), called in
an app context without a request session; "end the user's sessions" is
:meth:`~flask_google_flow.ext.user_sessions.UserSessions.end_all`.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask, Response, current_app, request, session

from ..core.security_events import (
    MAX_SET_LENGTH,
    RiscConfigurationCache,
    SecurityEvent,
    SecurityEventError,
    parse_events,
    verify_security_event_token,
)
from ..exceptions import InsecureTransportError, ProviderError
from . import errors, signals
from .pending import PendingFlowStore
from .state import EXTENSION_KEY, AppState, app_state
from .user_sessions import USER_SESSIONS_KEY, UserSessions, end_current_session

__all__ = ["RISC_KEY", "RiscReceiver", "receive", "setup"]

logger = logging.getLogger("flask_google_flow")

RISC_KEY = "google_flow.risc"
"""Key of the app's :class:`RiscReceiver` in ``app.extensions``."""

"""Key prefix of the markers, the token index and the seen ``jti`` values in the backend."""

_ENDS_SESSIONS = frozenset({"sessions-revoked", "tokens-revoked"})
_DELETES_CREDENTIALS = frozenset({"tokens-revoked"})
_SIGNALS = {
    "sessions-revoked": signals.sessions_revoked,
    "tokens-revoked": signals.tokens_revoked,
    "token-revoked": signals.token_revoked,
    "account-disabled": signals.account_disabled,
    "account-enabled": signals.account_enabled,
    "account-credential-change-required": signals.account_credential_change_required,
    "verification": signals.risc_verification,
}


@dataclass
class RiscReceiver:
    """What ``POST /risc`` needs for one app (``app.extensions["google_flow.risc"]``).

    :ivar configuration: the RISC configuration and its keys.
    :ivar sessions: the session markers, token index and seen ``jti`` values.
    :ivar audiences: the client ids accepted in ``aud``.
    """

    configuration: RiscConfigurationCache
    sessions: UserSessions
    audiences: frozenset[str]


def setup(setup_state: Any) -> None:
    """Deferred blueprint function: add ``/risc`` and the session check when RISC is on.

    :raises RuntimeError: the session backend cannot hold the markers.
    :raises ValueError: ``GOOGLE_FLOW_RISC_CONFIGURATION_URL`` is not an https URL.
    """
    app: Flask = setup_state.app
    state: AppState | None = app.extensions.get(EXTENSION_KEY)
    if state is None or not state.settings.risc_enabled:
        return
    if RISC_KEY not in app.extensions:
        app.extensions[RISC_KEY] = _make_receiver(app, state)
        app.extensions[USER_SESSIONS_KEY] = app.extensions[RISC_KEY].sessions
        app.before_request(check_session)
        csrf = app.extensions.get("csrf")  # Flask-WTF's CSRFProtect, if set up already
        if csrf is not None and callable(getattr(csrf, "exempt", None)):
            csrf.exempt(receive)
    setup_state.add_url_rule("/risc", "risc", receive, methods=["POST"])


def _make_receiver(app: Flask, state: AppState) -> RiscReceiver:
    settings = state.settings
    # The app's pending-flow store: the same backend, records named by a hash of their own.
    store = state.pending.store
    if type(store).get is PendingFlowStore.get or type(store).add is PendingFlowStore.add:
        raise RuntimeError(
            "GOOGLE_FLOW_RISC_ENABLED needs a session backend that every worker shares and "
            "flask-google-flow can address (Flask-Session's redis, sqlalchemy, memcached, "
            "cachelib or filesystem types, or the embedded default); this app's "
            f"{type(store).__name__} is not one"
        )
    get_json = state.provider.get_json
    try:
        configuration = RiscConfigurationCache(
            partial(get_json, endpoint="risc-configuration"),
            settings.risc_configuration_url,
            fetch_keys=partial(get_json, endpoint="risc-certs"),
            clock=state.clock,
        )
    except InsecureTransportError as exc:
        raise ValueError(f"invalid GOOGLE_FLOW_RISC_CONFIGURATION_URL: {exc}") from None
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    return RiscReceiver(
        configuration=configuration,
        sessions=UserSessions(store, marker_ttl=lifetime + 86400),
        audiences=frozenset((state.client_id, *settings.risc_audiences)),
    )


def check_session() -> None:
    """Before each request: sign out a session whose user's sessions were ended since."""
    sessions: UserSessions | None = current_app.extensions.get(USER_SESSIONS_KEY)
    if sessions is not None and sessions.is_ended(session):
        logger.info("flask-google-flow: signed out a session ended by a security event")
        end_current_session(current_app, session)


def _answer(status: int, body: dict[str, str] | None = None) -> Response:
    text = json.dumps(body) if body is not None else ""
    response = Response(text, status=status, mimetype="application/json" if body else None)
    return errors.no_store(response)


def _refuse(err: str, description: str) -> Response:
    logger.warning("flask-google-flow: security event refused (%s: %s)", err, description)
    return _answer(400, {"err": err, "description": description})


def _read_body() -> str:
    if (request.content_length or 0) > MAX_SET_LENGTH:
        raise SecurityEventError("invalid_request", "the request body is too large")
    body = request.stream.read(MAX_SET_LENGTH + 1)
    if len(body) > MAX_SET_LENGTH:
        raise SecurityEventError("invalid_request", "the request body is too large")
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SecurityEventError("invalid_request", "the request body is not a SET") from None


def receive() -> Response:
    """``POST /risc``: verify one SET, act on its events, answer 202 (or 400 per RFC 8935)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    receiver: RiscReceiver = app.extensions[RISC_KEY]
    state = app_state(app)
    try:
        token = _read_body()
        configuration, certs = receiver.configuration.current()
        claims = verify_security_event_token(
            token,
            certs=certs,
            issuer=configuration.issuer,
            audiences=receiver.audiences,
            max_age=state.settings.risc_max_age,
            leeway=state.settings.clock_skew,
            now=state.clock(),
        )
    except SecurityEventError as exc:
        return _refuse(exc.err, exc.description)
    except ProviderError as exc:
        raise errors.http_error_for(exc) from None
    jti = claims["jti"]
    remember_for = state.settings.risc_max_age + 2 * int(state.settings.clock_skew) + 60
    if not receiver.sessions.claim(jti, remember_for):
        logger.info("flask-google-flow: security event already received; acknowledged again")
        return _answer(202)
    issuers = [configuration.issuer]
    with contextlib.suppress(ProviderError):
        issuers.extend(state.provider.metadata.issuers)
    try:
        for event in parse_events(claims, issuers=issuers):
            sub = _act(state, receiver.sessions, event)
            _send_signals(app, event, sub, jti)
    except Exception:
        with contextlib.suppress(Exception):
            receiver.sessions.release(jti)  # let the transmitter's retry do it again
        raise
    return _answer(202)


def _act(state: AppState, sessions: UserSessions, event: SecurityEvent) -> str | None:
    """Do what the event asks (module table); the ``sub`` it concerns, if known."""
    name, sub = event.name, event.sub
    end = delete = False
    if name in _ENDS_SESSIONS:
        end, delete = True, name in _DELETES_CREDENTIALS
    elif name == "token-revoked" and event.token is not None:
        token_type, alg, identifier = event.token
        if token_type == "refresh_token":
            sub = sessions.sub_for_token(alg, identifier)
            end = delete = sub is not None
    elif name == "account-disabled":
        reason = event.payload.get("reason")
        end = delete = reason in (None, "hijacking")
    elif name == "verification":
        logger.info(
            "flask-google-flow: RISC verification event received (state %r)",
            str(event.payload.get("state", ""))[:200],
        )
    elif name is None:
        logger.info(
            "flask-google-flow: security event of unknown type %r acknowledged", event.type[:200]
        )
    if (end or delete) and not sub:
        logger.info("flask-google-flow: security event %s names none of our users", name)
        return None
    if end:
        sessions.end_all(sub)  # type: ignore[arg-type]
    if delete:
        try:
            state.credential_store().delete({}, sub)
        except Exception:
            logger.exception("flask-google-flow: the delete callback raised for a security event")
    if end or delete:
        logger.info("flask-google-flow: acted on security event %s", name)
    return sub


def _send_signals(app: Flask, event: SecurityEvent, sub: str | None, jti: str) -> None:
    payload = dict(event.payload)
    specific = _SIGNALS.get(event.name or "")
    if event.name == "verification":
        state_value = payload.get("state")
        specific.send(app, state=state_value, event=payload, jti=jti)  # type: ignore[union-attr]
    elif event.name == "token-revoked":
        _type, alg, identifier = event.token or ("", None, None)
        specific.send(  # type: ignore[union-attr]
            app, sub=sub, token_identifier_alg=alg, token=identifier, event=payload, jti=jti
        )
    elif event.name == "account-disabled":
        specific.send(  # type: ignore[union-attr]
            app, sub=sub, reason=payload.get("reason"), event=payload, jti=jti
        )
    elif specific is not None:
        specific.send(app, sub=sub, event=payload, jti=jti)
    signals.security_event_received.send(
        app, event_type=event.type, name=event.name, sub=sub, event=payload, jti=jti
    )
