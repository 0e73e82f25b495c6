"""Sign-in callbacks racing a session-id rotation: a short-lived, single-use hand-off.

A browser with several sign-ins pending (tabs) may send their callbacks at
once, all with the same session cookie *C*. The first to finish rotates the
session id (session-fixation defence), which deletes the session *C* names;
a callback opened after that finds no session, so without help it cannot
find its pending flow (records are keyed by the session's binding) and fails.

Before rotating, the finishing callback leaves one **hand-off record** per
sign-in still pending in the session, under
``sha256("google-flow-rotated:" + C + ":" + i)``, holding only the session's
binding value and an expiry ``GOOGLE_FLOW_ROTATION_GRACE`` seconds away, in
the pending-flow store (the same backend, the same atomic pop). A callback
that arrives with cookie *C* and finds no session claims one record (pops
it), uses the binding to consume **its own** pending flow by its ``state``,
and finishes into the fresh session the interface gave it.

Why the old cookie is no use for anything else:

* the old session is not brought back: nothing of it, and nothing of the new
  session it was rotated to, is copied; the late callback's session starts
  empty and gets only its own sign-in. Other routes with *C* see an empty
  session, as without the hand-off;
* a record only lets ``/oauth2callback`` look up a pending flow created in
  the old session *before* the rotation, and consuming one still needs its
  unguessable ``state``, the provider's code for it, and its PKCE verifier
  and nonce to match. A new ``/authorize`` with *C* creates flows under a new
  binding, which no hand-off record names;
* there are at most as many records as sign-ins were pending, each popped
  once (a claim whose state names no flow puts its record back), and they
  expire after the grace period. A session-fixation attacker who planted *C*
  can at most finish a sign-in of its own that it started in *C* before the
  victim's rotation — into a session of its own, holding its own account —
  which it could equally have done by starting a new one.

A hand-off record is written only when the session still lists pending
sign-ins, so a single sign-in costs nothing extra. The in-session fallback
pending store cannot keep records outside the session, so it gets no
hand-off.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import MutableMapping
from typing import Any, NamedTuple

from flask import Flask, Request

from .errors import SessionUnavailable
from .pending import BINDING_SESSION_KEY, PENDING_SESSION_KEY, SessionPendingFlowStore
from .pending.base import PendingFlowStore

__all__ = ["Claim", "claim", "leave", "release"]

logger = logging.getLogger("flask_google_flow")


class Claim(NamedTuple):
    """A claimed hand-off record: the old session's binding, its key and expiry."""

    binding: str
    key: str
    expires_at: int


def _value(binding: str, expires_at: int) -> str:
    return json.dumps({"b": binding, "e": expires_at}, separators=(",", ":"))


def _key(cookie: str, index: int) -> str:
    return hashlib.sha256(f"google-flow-rotated:{cookie}:{index}".encode()).hexdigest()


def _cookie(app: Flask, request: Request) -> str | None:
    value = request.cookies.get(app.session_interface.get_cookie_name(app))
    return value or None


def _supported(store: PendingFlowStore) -> bool:
    return not isinstance(store, SessionPendingFlowStore)


def leave(
    app: Flask,
    request: Request,
    session: MutableMapping[str, Any],
    store: PendingFlowStore,
    *,
    grace: int,
    now: float,
) -> int:
    """Before a rotation: leave one hand-off record per sign-in the session still lists.

    :param session: the session about to get a new id (its pending flow was consumed).
    :param store: the app's pending-flow store.
    :param grace: seconds the records stay usable (0: none are written).
    :param now: the app's clock.
    :returns: how many records were written (best effort: a record that
        cannot be written ends the writing, without an error).
    """
    binding = session.get(BINDING_SESSION_KEY)
    recent = session.get(PENDING_SESSION_KEY)
    if grace <= 0 or not isinstance(binding, str) or not isinstance(recent, list):
        return 0
    waiting = [e for e in recent if isinstance(e, list) and len(e) == 2 and e[1] > now]
    if not waiting or not _supported(store):
        return 0  # the usual sign-in: no other tab is waiting
    cookie = _cookie(app, request)
    if not cookie:
        return 0
    value = _value(binding, int(now) + grace)
    written = 0
    for index in range(len(waiting)):
        try:
            store.put(_key(cookie, index), value, grace)
        except SessionUnavailable:
            # Another callback of the browser writing or claiming the same record
            # at this moment (or the backend is down: the rotation fails next).
            logger.info("flask-google-flow: a rotation hand-off record could not be written")
            break
        written += 1
    return written


def claim(
    app: Flask,
    request: Request,
    session: MutableMapping[str, Any],
    store: PendingFlowStore,
    *,
    limit: int,
    now: float,
) -> Claim | None:
    """For a callback whose cookie names no session: claim a hand-off record.

    :param session: the request's session; only one without a binding (a
        fresh one) may claim.
    :param limit: most records to look for (``GOOGLE_FLOW_MAX_PENDING``).
    :param now: the app's clock.
    :returns: the claimed record (for :func:`release`), or ``None``.
    :raises SessionUnavailable: the store cannot be reached.
    """
    if BINDING_SESSION_KEY in session or not _supported(store):
        return None
    cookie = _cookie(app, request)
    if not cookie:
        return None
    for index in range(limit):
        key = _key(cookie, index)
        text = store.pop(key)
        if text is None:
            continue
        try:
            record = json.loads(text)
            binding, expires_at = record["b"], record["e"]
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(binding, str) and isinstance(expires_at, int) and expires_at > now:
            return Claim(binding, key, expires_at)
    return None


def release(store: PendingFlowStore, claimed: Claim, *, now: float) -> None:
    """Put back a claimed record whose binding found no pending flow for the state.

    It keeps its first expiry, so failed claims never extend its life.
    """
    ttl = claimed.expires_at - int(now)
    if ttl > 0:
        store.put(claimed.key, _value(claimed.binding, claimed.expires_at), ttl)
