"""Which pending-flow store an app gets, from its Flask-Session interface."""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from flask import Flask
from flask.sessions import SessionInterface

from ..errors import SessionUnavailable
from .base import DEFAULT_KEY_PREFIX, PendingFlowStore, client_outage_errors
from .cachelib import CacheLibPendingFlowStore
from .files import FilePendingFlowStore
from .memcached import MemcachedPendingFlowStore, is_pymemcache_client, writes_without_reply
from .redis import RedisPendingFlowStore
from .session import SessionPendingFlowStore
from .sql import SqlPendingFlowStore

__all__ = ["store_for_session_interface"]

logger = logging.getLogger("flask_google_flow")


def store_for_session_interface(
    session_interface: SessionInterface,
    *,
    key_prefix: str = DEFAULT_KEY_PREFIX,
    directory: str | os.PathLike[str] | None = None,
    app: Flask | None = None,
) -> PendingFlowStore:
    """The pending-flow store that matches an app's session interface.

    See *Backends* in :mod:`flask_google_flow.ext.pending` for which store each gets.

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
            f"cannot use the pending-flow folder {os.fspath(directory)!r} "
            f"({exc.strerror}); set GOOGLE_FLOW_PENDING_DIR to a writable folder "
            "of this user that no one else may write to"
        ) from None


def _cachelib_store(cache: object, key_prefix: str) -> CacheLibPendingFlowStore:
    store = CacheLibPendingFlowStore(cache, key_prefix, errors=client_outage_errors())
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
