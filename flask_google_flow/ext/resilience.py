"""A session backend that is down gives a clean 503, never a 500 with a traceback.

Flask-Session opens the session before any view runs and saves it after the
view returned, so when its backend (Redis, PostgreSQL, memcached, a full
disk) fails, the error is raised outside our views and Flask answers 500.
:func:`guard_session_backend` puts a :class:`GuardedSessionInterface` in
front of the app's session interface (composition: the original stays
untouched at :attr:`GuardedSessionInterface.wrapped`):

* **open fails** → the request gets an :class:`UnavailableSession`: the first
  read or write of ``session`` raises
  :class:`~flask_google_flow.ext.errors.SessionUnavailable` (503) inside the view,
  where the app's error handlers see it; pages that never touch the session
  keep working;
* **save fails** → the response that was about to go out (perhaps a redirect
  claiming success) is replaced by the 503 page, and the callbacks registered
  with :func:`on_session_save_failure` for this request run. A session that
  was not modified keeps its response: only the refresh of its expiry
  (``SESSION_REFRESH_EACH_REQUEST``) was lost, with a warning;
* **session-id rotation fails** (``regenerate``) → ``SessionUnavailable``;
* **the backend cannot even be set up** (Flask-Session's SQLAlchemy backend
  creates its table when it is constructed) → the app starts anyway, every
  request that uses the session gets 503, and the set-up is tried again at
  most once per ``retry_after`` seconds until it works.

Which errors mean "the backend is down" is decided by :func:`is_backend_outage`,
per client library, with nothing for the app to list. Nothing is retried
here: the backend client decides how long to wait (see
:mod:`flask_google_flow.ext.session_clients` and docs/deployment.md for
bounded waits; its names are importable from here too).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, g
from flask.sessions import NullSession, SessionInterface, SessionMixin

from .errors import SessionUnavailable
from .pending.base import PendingFlowStore, client_outage_errors
from .session_clients import (
    CheckedFileSystemCache,
    SessionWriteError,
    fail_fast_memcached,
    fail_fast_redis,
)

__all__ = [
    "CheckedFileSystemCache",
    "DeferredPendingFlowStore",
    "GuardedSessionInterface",
    "SessionWriteError",
    "UnavailableSession",
    "backend_errors",
    "discard_session_changes",
    "fail_fast_memcached",
    "fail_fast_redis",
    "guard_session_backend",
    "is_backend_outage",
    "on_session_save_failure",
    "unwrap_session_interface",
]

logger = logging.getLogger("flask_google_flow")

#: ``flask.g`` key of this request's save-failure callbacks.
_SAVE_FAILURE_KEY = "_google_flow_on_save_failure"
#: ``flask.g`` key set by :func:`discard_session_changes`.
_DISCARD_KEY = "_google_flow_discard_session"


@functools.lru_cache(maxsize=1)
def backend_errors() -> tuple[type[BaseException], ...]:
    """The exception types that always mean "the session backend cannot be reached".

    ``OSError`` (sockets, files, disk full),
    :class:`~flask_google_flow.ext.errors.SessionUnavailable`, and,
    for each client library that is installed: redis-py's ``ConnectionError``
    and ``TimeoutError``; SQLAlchemy's ``OperationalError`` (connection
    refused, server gone, statement timeout) and ``TimeoutError`` (the pool
    had no connection within ``pool_timeout``); every pymemcache error
    (``MemcacheError``, including ``MemcacheUnexpectedCloseError`` of a stale
    connection). SQLAlchemy's other ``DBAPIError`` count only when they
    invalidated the connection (see :func:`is_backend_outage`).
    """
    return (OSError, SessionUnavailable, *client_outage_errors())


@functools.lru_cache(maxsize=1)
def _disconnect_errors() -> tuple[type[BaseException], ...]:
    try:
        import sqlalchemy.exc
    except ImportError:  # pragma: no cover - SQLAlchemy is optional
        return ()
    return (sqlalchemy.exc.DBAPIError,)


#: SQLSTATE classes and codes of a database that is down, restarting, overloaded or
#: timing out: connection exceptions (08), insufficient resources (53), operator
#: intervention (57: shutdown, crash recovery, statement timeout), and 25P02, a
#: transaction aborted by such an error that a client library retried inside it.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")
_OUTAGE_SQLSTATES = frozenset({"25P02"})


def _sqlstate(exc: BaseException) -> str | None:
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return code if isinstance(code, str) else None


def is_backend_outage(exc: BaseException, extra: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether *exc* means the session backend is down (rather than a bug).

    One of :func:`backend_errors`, one of *extra*, or a SQLAlchemy
    ``DBAPIError`` that invalidated its connection (a disconnect noticed in the
    middle of a statement) or whose SQLSTATE says the server is unavailable
    (classes 08, 53, 57, or 25P02: Flask-Session retries a failed query inside
    the transaction the failure aborted).
    """
    if isinstance(exc, backend_errors() + extra):
        return True
    disconnects = _disconnect_errors()
    if not disconnects or not isinstance(exc, disconnects):
        return False
    if exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    return code is not None and (
        code in _OUTAGE_SQLSTATES or code.startswith(_OUTAGE_SQLSTATE_CLASSES)
    )


def on_session_save_failure(callback: Callable[[BaseException], None]) -> None:
    """Run ``callback(error)`` if this request's session cannot be saved.

    Call it inside a request. The callbacks run in the order registered, from
    :meth:`GuardedSessionInterface.save_session`, after the response has been
    replaced by the 503 page; an exception in one is logged and the others
    still run. Nothing runs when the save succeeds.
    """
    callbacks = g.setdefault(_SAVE_FAILURE_KEY, [])
    callbacks.append(callback)


def discard_session_changes() -> None:
    """Do not save this request's session at all (call it inside a request).

    For a request that fails half-way through changing the session, e.g. a
    sign-in whose session id could not be rotated: saving it would keep a
    signed-in session under its old id.
    """
    g.setdefault(_DISCARD_KEY, True)


class UnavailableSession(NullSession):
    """The session of a request whose session backend could not be read.

    Any use of it raises :class:`~flask_google_flow.ext.errors.SessionUnavailable`
    (503). It is never saved.
    """

    def _unavailable(self, *args: Any, **kwargs: Any) -> Any:
        raise SessionUnavailable()

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __len__ = _unavailable
    get = setdefault = pop = popitem = update = clear = keys = values = items = _unavailable


class GuardedSessionInterface(SessionInterface):
    """The app's session interface, with backend outages turned into 503 answers.

    Every method delegates to :attr:`wrapped` through its public API; other
    attributes (``client``, ``cache``, ...) are read from it too, so
    ``app.session_interface.client`` keeps working. Use :attr:`wrapped` (or
    :func:`unwrap_session_interface`) for ``isinstance`` checks.

    :param wrapped: the interface to guard, or ``None`` while it cannot be
        built (then *build* makes it).
    :param build: makes the interface; called at most once per *retry_after*
        seconds while :attr:`wrapped` is ``None``, and only from requests.
    :param extra_errors: further exception types that mean "backend down".
    :param retry_after: seconds between two attempts of *build*.
    :param clock: a monotonic clock.
    """

    def __init__(
        self,
        wrapped: SessionInterface | None,
        *,
        build: Callable[[], SessionInterface] | None = None,
        extra_errors: tuple[type[BaseException], ...] = (),
        retry_after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if wrapped is None and build is None:
            raise ValueError("either wrapped or build is required")
        self._wrapped = wrapped
        self._build = build
        self.extra_errors = tuple(extra_errors)
        self.retry_after = retry_after
        self._clock = clock
        self._next_build = 0.0
        self._build_lock = threading.Lock()

    # -- the guarded interface ----------------------------------------------

    @property
    def wrapped(self) -> SessionInterface | None:
        """The guarded interface (``None`` while the backend could not be set up yet)."""
        return self._wrapped

    def _current(self) -> SessionInterface | None:
        """The wrapped interface, building it first if that is due."""
        if self._wrapped is not None or self._build is None:
            return self._wrapped
        if self._clock() < self._next_build or not self._build_lock.acquire(blocking=False):
            return None
        try:
            if self._wrapped is None:
                self._next_build = self._clock() + self.retry_after
                try:
                    self._wrapped = self._build()
                except Exception as exc:
                    if not self.is_outage(exc):
                        raise
                    _log_outage("the session backend still cannot be set up", exc)
                else:
                    logger.info("flask-google-flow: the session backend is set up now")
        finally:
            self._build_lock.release()
        return self._wrapped

    def is_outage(self, exc: BaseException) -> bool:
        """Whether *exc* means the backend is down (:func:`is_backend_outage`)."""
        return is_backend_outage(exc, self.extra_errors)

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes this object lacks: read them from the wrapped one.
        if name.startswith("_"):
            raise AttributeError(name)
        wrapped = self.__dict__.get("_wrapped")
        if wrapped is None:
            raise AttributeError(name)
        return getattr(wrapped, name)

    # -- flask.sessions.SessionInterface --------------------------------------

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Open the session; an outage gives an :class:`UnavailableSession`."""
        wrapped = self._current()
        if wrapped is None:
            return UnavailableSession()
        try:
            return wrapped.open_session(app, request)
        except Exception as exc:
            if not self.is_outage(exc):
                raise
            _log_outage("the session backend cannot be read", exc)
            return UnavailableSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save the session; an outage replaces *response* with the 503 page."""
        wrapped = self._wrapped
        if isinstance(session, UnavailableSession) or wrapped is None:
            return
        if g.get(_DISCARD_KEY):
            return
        try:
            wrapped.save_session(app, session, response)
        except Exception as exc:
            if not self.is_outage(exc):
                raise
            if not getattr(session, "modified", True):
                # Only the expiry refresh (SESSION_REFRESH_EACH_REQUEST) was lost, no data.
                logger.warning(
                    "flask-google-flow: the session's expiry could not be refreshed (%s)",
                    type(exc).__name__,
                )
                return
            _log_outage("the session could not be saved", exc)
            _replace_with_503(response)
            _run_save_failure_callbacks(exc)

    def regenerate(self, session: SessionMixin) -> None:
        """Give *session* a new id (Flask-Session's ``regenerate``), if the backend has one.

        :raises SessionUnavailable: the backend failed.
        """
        wrapped = self._wrapped
        if isinstance(session, UnavailableSession) or wrapped is None:
            raise SessionUnavailable()
        regenerate = getattr(wrapped, "regenerate", None)
        if regenerate is None:
            return
        try:
            regenerate(session)
        except Exception as exc:
            if not self.is_outage(exc):
                raise
            _log_outage("the session id could not be rotated", exc)
            raise SessionUnavailable() from exc

    def make_null_session(self, app: Flask) -> NullSession:
        """Delegated."""
        wrapped = self._wrapped
        if wrapped is None:
            return UnavailableSession()
        return wrapped.make_null_session(app)

    def is_null_session(self, obj: object) -> bool:
        """Delegated; an :class:`UnavailableSession` is a null session."""
        wrapped = self._wrapped
        if isinstance(obj, UnavailableSession) or wrapped is None:
            return True
        return wrapped.is_null_session(obj)

    def get_cookie_name(self, app: Flask) -> str:
        """Delegated."""
        return self._delegate("get_cookie_name", app)

    def get_cookie_domain(self, app: Flask) -> str | None:
        """Delegated."""
        return self._delegate("get_cookie_domain", app)

    def get_cookie_path(self, app: Flask) -> str:
        """Delegated."""
        return self._delegate("get_cookie_path", app)

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Delegated."""
        return self._delegate("get_cookie_httponly", app)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Delegated."""
        return self._delegate("get_cookie_secure", app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """Delegated."""
        return self._delegate("get_cookie_samesite", app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """Delegated."""
        return self._delegate("get_cookie_partitioned", app)

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> Any:
        """Delegated."""
        return self._delegate("get_expiration_time", app, session)

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Delegated."""
        return self._delegate("should_set_cookie", app, session)

    def _delegate(self, name: str, *args: Any) -> Any:
        wrapped = self._wrapped
        method = getattr(wrapped, name, None) if wrapped is not None else None
        if method is None:
            return getattr(super(), name)(*args)
        return method(*args)


def _log_outage(what: str, exc: BaseException) -> None:
    logger.warning("flask-google-flow: %s (%s); answering 503", what, type(exc).__name__)


def _run_save_failure_callbacks(exc: BaseException) -> None:
    for callback in g.pop(_SAVE_FAILURE_KEY, ()):
        try:
            callback(exc)
        except Exception:
            logger.exception("flask-google-flow: a session-save-failure callback raised")


def _replace_with_503(response: Response) -> None:
    """Turn the outgoing response into the :class:`SessionUnavailable` page."""
    page = SessionUnavailable()
    response.status_code = page.code
    response.headers.clear()
    for name, value in page.get_headers():
        response.headers.add(name, value)
    response.set_data(page.get_body())


def unwrap_session_interface(interface: SessionInterface) -> SessionInterface | None:
    """The interface a :class:`GuardedSessionInterface` guards, or *interface* itself."""
    if isinstance(interface, GuardedSessionInterface):
        return interface.wrapped
    return interface


def guard_session_backend(
    app: Flask,
    extra_errors: tuple[type[BaseException], ...] = (),
    *,
    build: Callable[[], SessionInterface] | None = None,
) -> GuardedSessionInterface:
    """Make a failing session backend answer 503 instead of 500 (idempotent).

    Replaces ``app.session_interface`` with a :class:`GuardedSessionInterface`
    wrapping it (``GoogleFlow.init_app`` does this). Calling it again returns
    the guard already in place, with *extra_errors* added.

    :param app: the Flask app.
    :param extra_errors: further exception types that mean "unreachable", for
        a client library not known to :func:`backend_errors`
        (e.g. ``pymongo.errors.ConnectionFailure``).
    :param build: makes the interface when it could not be built yet (the
        backend was down at start-up); the guard then wraps nothing until
        *build* succeeds.
    :returns: the guard, now ``app.session_interface``.
    """
    interface = app.session_interface
    if isinstance(interface, GuardedSessionInterface):
        new = tuple(e for e in extra_errors if e not in interface.extra_errors)
        interface.extra_errors += new
        return interface
    guard = GuardedSessionInterface(
        None if build is not None else interface, build=build, extra_errors=extra_errors
    )
    app.session_interface = guard
    return guard


class DeferredPendingFlowStore(PendingFlowStore):
    """The pending-flow store of a session backend that could not be set up at start-up.

    Until the guard has built the session interface, every call raises
    :class:`~flask_google_flow.ext.errors.SessionUnavailable`; then the store
    matching the built interface (*choose*) is made once and used.

    :param guard: the app's :class:`GuardedSessionInterface`.
    :param choose: the store for a built interface
        (:func:`~flask_google_flow.ext.pending.store_for_session_interface`).
    """

    def __init__(
        self,
        guard: GuardedSessionInterface,
        choose: Callable[[SessionInterface], PendingFlowStore],
    ) -> None:
        self.guard = guard
        self._choose = choose
        self._store: PendingFlowStore | None = None
        self._lock = threading.Lock()

    def resolved(self) -> PendingFlowStore:
        """The real store.

        :raises SessionUnavailable: the session backend is still not set up.
        """
        store = self._store
        if store is not None:
            return store
        wrapped = self.guard.wrapped
        if wrapped is None:
            raise SessionUnavailable()
        with self._lock:
            if self._store is None:
                self._store = self._choose(wrapped)
            return self._store

    def put(self, key: str, value: str, ttl: int) -> None:
        """Delegated to the real store."""
        self.resolved().put(key, value, ttl)

    def pop(self, key: str) -> str | None:
        """Delegated to the real store."""
        return self.resolved().pop(key)

    def delete(self, key: str) -> None:
        """Delegated to the real store."""
        self.resolved().delete(key)

    def get(self, key: str) -> str | None:
        """Delegated to the real store."""
        return self.resolved().get(key)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Delegated to the real store."""
        return self.resolved().add(key, value, ttl)
