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
      default: :class:`FilePendingFlowStore` in a folder of its own (``rename``);
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

import importlib
import logging
import os
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface

from ..errors import SessionUnavailable
from .base import DEFAULT_KEY_PREFIX, PendingFlowStore
from .cachelib import CacheLibPendingFlowStore, NoReplyCacheError
from .files import FilePendingFlowStore
from .flows import BINDING_SESSION_KEY, PENDING_SESSION_KEY, PendingFlows
from .memcached import MemcachedPendingFlowStore, is_pymemcache_client, writes_without_reply
from .record import PendingFlow
from .redis import RedisPendingFlowStore
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

logger = logging.getLogger("flask_google_flow")


def store_for_session_interface(
    session_interface: SessionInterface | object,
    *,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    directory: str | os.PathLike[str] | None = None,
    app: Flask | None = None,
) -> PendingFlowStore:
    """The pending-flow store that matches an app's session interface (see the table above).

    :param session_interface: ``app.session_interface`` (before any wrapper is put around it).
    :param key_prefix: prefix of the records' keys in a shared backend.
    :param directory: the :class:`FilePendingFlowStore`'s folder, needed for
        the filesystem backends.
    :param app: the app, needed for the ``sqlalchemy`` backend (its engine).
    :raises ValueError: *directory* or *app* is missing where needed, or the
        folder cannot be created.
    :raises NoReplyCacheError: a cachelib ``MemcachedCache`` whose client does
        not wait for the server's replies.
    """
    from cachelib import FileSystemCache

    if _is(session_interface, "redis", "RedisSessionInterface"):
        return RedisPendingFlowStore(session_interface.client, key_prefix=key_prefix)
    if _is(session_interface, "cachelib", "CacheLibSessionInterface") or _is(
        session_interface, "filesystem", "FileSystemSessionInterface"
    ):
        if isinstance(session_interface.cache, FileSystemCache):
            return _file_store(directory)
        return _cachelib_store(session_interface.cache, key_prefix)
    if _is(session_interface, "memcached", "MemcachedSessionInterface"):
        client = session_interface.client
        if not is_pymemcache_client(client):
            return _fallback(f"memcached with a {type(client).__name__} client")
        if writes_without_reply(client):
            logger.warning(
                "flask-google-flow: the memcached session client writes with noreply "
                "(pymemcache's default): a request may read its session before the "
                "previous write arrived, losing sign-ins; create the client with "
                "default_noreply=False"
            )
        return MemcachedPendingFlowStore(client, key_prefix=key_prefix)
    if _is(session_interface, "sqlalchemy", "SqlAlchemySessionInterface"):
        return _sql_store(session_interface, key_prefix, app)
    return _fallback(type(session_interface).__name__)


def _is(session_interface: object, module: str, name: str) -> bool:
    """Whether *session_interface* is Flask-Session's ``flask_session.<module>.<name>``.

    Each of those modules imports its backend's client library (``redis``,
    ``flask_sqlalchemy``, …); an app without that library has no such session.
    """
    try:
        interface_class = getattr(importlib.import_module(f"flask_session.{module}"), name)
    except ImportError:
        return False
    return isinstance(session_interface, interface_class)


def _file_store(directory: str | os.PathLike[str] | None) -> FilePendingFlowStore:
    if directory is None:
        raise ValueError("the filesystem session backends need a directory for pending flows")
    try:
        return FilePendingFlowStore(directory)
    except OSError as exc:
        raise ValueError(
            f"cannot create the pending-flow folder {os.fspath(directory)!r} "
            f"({exc.strerror}); set GOOGLE_FLOW_PENDING_DIR to a writable folder"
        ) from None


def _cachelib_store(cache: object, key_prefix: str) -> CacheLibPendingFlowStore:
    errors: list[type[BaseException]] = []
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is optional
        pass
    else:
        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    try:
        from pymemcache.exceptions import MemcacheError
    except ImportError:  # pragma: no cover - pymemcache is optional
        pass
    else:
        errors.append(MemcacheError)
    store = CacheLibPendingFlowStore(cache, key_prefix, errors=tuple(errors))
    try:
        store.check_replies()
    except SessionUnavailable:
        logger.warning(
            "flask-google-flow: the session cache cannot be reached; its replies are "
            "checked on first use"
        )
    return store


def _sql_store(interface: Any, key_prefix: str, app: Flask | None) -> SqlPendingFlowStore:
    if app is None:
        raise ValueError("the sqlalchemy session backend needs the app for its engine")
    model = interface.sql_session_model
    with app.app_context():
        engine = interface.client.engines[getattr(model, "__bind_key__", None)]
    store = SqlPendingFlowStore(engine, schema=model.__table__.schema, key_prefix=key_prefix)
    try:
        store.create_table()
    except SessionUnavailable:
        logger.warning(
            "flask-google-flow: the session database cannot be reached; the "
            "pending-flow table is created on first use"
        )
    return store


def _fallback(what: str) -> SessionPendingFlowStore:
    logger.warning(
        "flask-google-flow: no atomic pending-flow store for the %s session backend; "
        "pending sign-ins are kept inside the session, which is not race-safe "
        "(parallel sign-ins of one browser may be lost, replayed callbacks may "
        "reach the token endpoint more than once). Use Redis, SQLAlchemy, "
        "memcached (pymemcache) or the filesystem backend.",
        what,
    )
    return SessionPendingFlowStore()
