"""Pending flows: create, look up by state, consume once, expire.

A *pending flow* is what ``/authorize`` must remember until ``/oauth2callback``:
the PKCE code verifier, the OIDC nonce, the validated ``next`` URL, the extra
scopes and the redirect URI. Each is its **own record** in the session
backend, not an entry of a dict inside the session, because Flask-Session
writes the whole session on every request and two tabs starting a sign-in at
the same moment would overwrite each other's entry.

Usage by the view code (``secret`` is the app's ``SECRET_KEY``)::

    pending = PendingFlows(store_for_session_interface(app.session_interface))

    # /authorize
    state = pending.begin(session, PendingFlow(verifier, nonce, next_url, (), redirect_uri),
                          secret=app.secret_key)
    # /oauth2callback
    flow = pending.consume(session, request.args["state"], secret=app.secret_key)
    # raises errors.UnknownStateError: unknown, other session, expired or used

Session binding
    The record key is ``key_prefix + sha256(f"{binding}:{state}").hexdigest()``.
    ``binding`` is a random value kept in the session under
    ``_google_flow_binding``; until it is there it is derived as
    ``HMAC-SHA256(secret, session.sid)``, so concurrent first requests of one
    session agree on it without racing (a session without ``sid``, or no
    secret, gets a random binding). A state stolen from or forged for another
    browser session names no record of this one. The binding survives a
    session-id rotation because it is stored in the session.

Single use and expiry
    :meth:`PendingFlows.consume` pops the record atomically (see
    *Backends*), so of two parallel callbacks with the same state
    exactly one gets the flow. Expiry is the
    record's own ``expires_at`` checked against the injectable clock; the
    backend TTL only collects garbage.

Per-session cap
    The session keeps the ids of its recent pending flows under
    ``_google_flow_pending``; beyond ``max_per_session`` the oldest record is
    deleted. Two concurrent ``/authorize`` requests may each write that list
    and one update may be lost. That is harmless: the list is used only for
    this cap, never to accept a callback; a record missing from it still
    expires on its own, so the cap is exceeded by at most the number of
    simultaneous requests, for at most the TTL.

Backends
    :func:`store_for_session_interface` picks the store for the app's
    Flask-Session interface, each with an atomic single-use claim:

    * ``redis``: :class:`RedisPendingFlowStore` (``GETDEL``);
    * ``filesystem``, ``cachelib`` with a ``FileSystemCache``, the embedded
      default: :class:`FilePendingFlowStore` in a folder of its own (``rename``
      of the record to a spare name, or ``unlink``);
    * ``sqlalchemy``: :class:`SqlPendingFlowStore`, a table of its own
      (``DELETE … RETURNING``, or a row-count-checked ``DELETE``);
    * ``memcached`` with a pymemcache client: :class:`MemcachedPendingFlowStore`
      (a ``delete`` answered by the server);
    * ``cachelib`` with another cache: :class:`CacheLibPendingFlowStore`
      (``get`` + a ``delete`` whose answer is checked);
    * anything else (MongoDB, DynamoDB, …): :class:`SessionPendingFlowStore`.

    The last one keeps the records inside the session itself and is **not
    race-safe** (concurrent sign-ins of one browser may lose a record; a
    replay is single-use only as far as the session backend's last write
    wins); choosing it logs a warning. A backend that cannot be reached
    raises :class:`~flask_google_flow.ext.errors.SessionUnavailable` (503).
"""

from __future__ import annotations

from .base import DEFAULT_KEY_PREFIX, PendingFlowStore
from .cachelib import CacheLibPendingFlowStore, NoReplyCacheError
from .files import FilePendingFlowStore
from .flows import BINDING_SESSION_KEY, PENDING_SESSION_KEY, PendingFlows
from .memcached import MemcachedPendingFlowStore
from .record import PendingFlow
from .redis import RedisPendingFlowStore
from .selection import store_for_session_interface
from .session import RECORDS_SESSION_KEY, SessionPendingFlowStore
from .sql import SqlPendingFlowStore

__all__ = [
    "BINDING_SESSION_KEY",
    "DEFAULT_KEY_PREFIX",
    "PENDING_SESSION_KEY",
    "RECORDS_SESSION_KEY",
    "CacheLibPendingFlowStore",
    "FilePendingFlowStore",
    "MemcachedPendingFlowStore",
    "NoReplyCacheError",
    "PendingFlow",
    "PendingFlowStore",
    "PendingFlows",
    "RedisPendingFlowStore",
    "SessionPendingFlowStore",
    "SqlPendingFlowStore",
    "store_for_session_interface",
]
