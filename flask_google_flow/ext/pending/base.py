"""The interface every pending-flow store implements (one module per backend beside it)."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from types import TracebackType

from ..errors import SessionUnavailable

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "Outages",
    "PendingFlowStore",
    "as_text",
    "client_outage_errors",
    "unavailable",
]

#: The default key prefix of records in a shared backend.
DEFAULT_KEY_PREFIX = "google-flow:pending:"


class PendingFlowStore(ABC):
    """Where pending-flow records live: a key-value store with atomic pop.

    Keys passed in are hex digests; a store adds its own prefix. Every method
    raises :class:`~flask_google_flow.ext.errors.SessionUnavailable` when the
    backend cannot be reached.
    """

    @abstractmethod
    def put(self, key: str, value: str, ttl: int) -> None:
        """Store ``value`` under ``key`` for about ``ttl`` seconds (garbage collection)."""

    @abstractmethod
    def pop(self, key: str) -> str | None:
        """Remove and return the value, atomically.

        Of several callers popping one key at the same time, exactly one gets
        the value; the others get ``None``.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def get(self, key: str) -> str | None:
        """The value under ``key`` without removing it, or ``None``.

        Optional (Cross-Account Protection needs it); a backend without it raises
        :class:`NotImplementedError`.
        """
        raise NotImplementedError

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Store ``value`` only if ``key`` is absent; whether it was stored.

        Optional, like :meth:`get`; atomic where the backend allows (Redis ``SET NX``).
        """
        raise NotImplementedError


def as_text(value: object) -> str | None:
    """A record as a backend client returned it (``bytes`` or ``str``), as text; ``None`` stays."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def unavailable(exc: BaseException) -> SessionUnavailable:
    """A :class:`SessionUnavailable` caused by *exc*."""
    error = SessionUnavailable()
    error.__cause__ = exc
    return error


class Outages:
    """``with outages:`` — the backend client's *errors* leave the block as
    :class:`SessionUnavailable` (caused by the original); anything else passes.

    One per store, made once: entering it costs an attribute lookup, not a
    generator as :func:`contextlib.contextmanager` would.

    :param errors: the client's exception types meaning "the server cannot be reached".
    """

    __slots__ = ("errors",)

    def __init__(self, *errors: type[BaseException]) -> None:
        self.errors = errors

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None and isinstance(exc, self.errors):
            raise unavailable(exc) from exc


@functools.lru_cache(maxsize=1)
def client_outage_errors() -> tuple[type[BaseException], ...]:
    """The installed backend clients' exceptions that mean "the server cannot be reached".

    redis-py's ``ConnectionError`` and ``TimeoutError``; SQLAlchemy's
    ``OperationalError`` (connection refused, server gone, statement timeout)
    and ``TimeoutError`` (no pooled connection within ``pool_timeout``); every
    pymemcache error (``MemcacheError``, a stale connection included). Each
    only when that client library is installed.
    """
    errors: list[type[BaseException]] = []
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis is optional
        pass
    else:
        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    try:
        import sqlalchemy.exc
    except ImportError:  # pragma: no cover - SQLAlchemy is optional
        pass
    else:
        errors += [sqlalchemy.exc.OperationalError, sqlalchemy.exc.TimeoutError]
    try:
        import pymemcache.exceptions
    except ImportError:  # pragma: no cover - pymemcache is optional
        pass
    else:
        errors.append(pymemcache.exceptions.MemcacheError)
    return tuple(errors)
