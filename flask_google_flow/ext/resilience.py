"""A session backend that is down gives a clean 503, never a 500 with a traceback.

Flask-Session opens the session before any view runs and saves it after the
view returned, so when its backend (Redis, a full disk) fails, the error is
raised outside our views and Flask answers 500. :func:`guard_session_backend`
changes that for one app:

* **open fails** → the request gets an :class:`UnavailableSession`: the first
  read or write of ``session`` raises
  :class:`~flask_google_flow.ext.errors.SessionUnavailable` (503) inside the view,
  where the app's error handlers see it; pages that never touch the session
  keep working;
* **save fails** → the response that was about to go out (perhaps a redirect
  claiming success) is replaced by the 503 page;
* **session-id rotation fails** (``regenerate``) → ``SessionUnavailable``.

Nothing is retried here: the backend client decides how long to wait.
For Redis use a client that fails fast (:func:`fail_fast_redis`), because
redis-py 8 retries connection errors with backoff for about ten seconds by
default. Once the backend is back, the next request simply works again.

The guard swaps the class of ``app.session_interface`` for a subclass, so
``isinstance`` checks against the Flask-Session interface classes still hold
and every other attribute stays as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.sessions import NullSession, SessionInterface

from .errors import SessionUnavailable

__all__ = ["UnavailableSession", "backend_errors", "fail_fast_redis", "guard_session_backend"]

logger = logging.getLogger("flask_google_flow")


def backend_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean "the session backend cannot be reached".

    ``OSError`` (sockets, files),
    :class:`~flask_google_flow.ext.errors.SessionUnavailable`, and redis-py's
    ``ConnectionError`` and ``TimeoutError`` when redis-py is installed.
    """
    errors: list[type[BaseException]] = [OSError, SessionUnavailable]
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is optional
        pass
    else:
        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    return tuple(errors)


def _unavailable() -> SessionUnavailable:
    return SessionUnavailable()


class UnavailableSession(NullSession):
    """The session of a request whose session backend could not be read.

    Any use of it raises :class:`~flask_google_flow.ext.errors.SessionUnavailable`
    (503). It is never saved.
    """

    def _unavailable(self, *args: Any, **kwargs: Any) -> Any:
        raise _unavailable()

    __getitem__ = __setitem__ = __delitem__ = __contains__ = __iter__ = __len__ = _unavailable
    get = setdefault = pop = popitem = update = clear = keys = values = items = _unavailable


class _GuardedSessionInterface(SessionInterface):
    """Mixin put in front of the app's session interface class."""

    _guard_errors: tuple[type[BaseException], ...] = ()

    def open_session(self, app: Flask, request: Any) -> Any:
        try:
            return super().open_session(app, request)
        except self._guard_errors as exc:
            logger.warning(
                "flask-google-flow: the session backend cannot be read (%s); answering 503",
                type(exc).__name__,
            )
            return UnavailableSession()

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if isinstance(session, UnavailableSession):
            return
        try:
            super().save_session(app, session, response)
        except self._guard_errors as exc:
            logger.warning(
                "flask-google-flow: the session could not be saved (%s); answering 503",
                type(exc).__name__,
            )
            _replace_with_503(response)

    def regenerate(self, session: Any) -> None:
        try:
            super().regenerate(session)  # type: ignore[misc]
        except self._guard_errors as exc:
            raise _unavailable() from exc


def _replace_with_503(response: Any) -> None:
    """Turn the outgoing response into the :class:`SessionUnavailable` page."""
    page = SessionUnavailable()
    response.status_code = page.code
    response.headers.clear()
    for name, value in page.get_headers():
        response.headers.add(name, value)
    response.set_data(page.get_body())


_GUARDED_CLASSES: dict[type, type] = {}


def guard_session_backend(
    app: Flask, extra_errors: tuple[type[BaseException], ...] = ()
) -> SessionInterface:
    """Make a failing session backend answer 503 instead of 500 (idempotent).

    Call it after Flask-Session is set up (``GoogleFlow.init_app`` does).
    Calling it again, e.g. after ``init_app`` to add ``extra_errors``, adds
    those errors to the guard already in place.

    :param app: the Flask app.
    :param extra_errors: further exception types of your backend's client
        that mean "unreachable" (e.g. ``pymongo.errors.ConnectionFailure``).
    :returns: ``app.session_interface`` (the same object, now guarded).
    """
    interface = app.session_interface
    base = type(interface)
    if issubclass(base, _GuardedSessionInterface):
        new = tuple(e for e in extra_errors if e not in interface._guard_errors)
        if new:
            interface._guard_errors = interface._guard_errors + new
        return interface
    errors = backend_errors() + tuple(extra_errors)
    key = (base, errors)
    guarded = _GUARDED_CLASSES.get(key)  # type: ignore[call-overload]
    if guarded is None:
        namespace: dict[str, Any] = {"_guard_errors": errors, "__module__": __name__}
        guarded = type(f"Guarded{base.__name__}", (_GuardedSessionInterface, base), namespace)
        _GUARDED_CLASSES[key] = guarded  # type: ignore[index]
    interface.__class__ = guarded
    return interface


def fail_fast_redis(
    url: str,
    *,
    socket_timeout: float = 2.0,
    connect_timeout: float = 1.0,
    retries: int = 1,
    **kwargs: Any,
) -> Any:
    """A :class:`redis.Redis` client for ``SESSION_REDIS`` that fails in about a second.

    redis-py 8 retries connection errors with exponential backoff (about ten
    seconds in all) by default, so a Redis outage would hold every worker for
    that long before the 503. This client retries ``retries`` times without
    backoff (one retry lets a request that finds a stale pooled connection
    after a Redis restart reconnect at once) and has short socket timeouts.

    :param url: ``redis://host:port/db``.
    :param socket_timeout: seconds to wait for a reply.
    :param connect_timeout: seconds to wait for a connection.
    :param retries: immediate retries of a failed command.
    :param kwargs: passed on to :meth:`redis.Redis.from_url`.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), retries),
        **kwargs,
    )
