"""The interface every pending-flow store implements (one module per backend beside it)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..errors import SessionUnavailable

__all__ = ["DEFAULT_KEY_PREFIX", "PendingFlowStore", "unavailable"]

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


def unavailable(exc: BaseException) -> SessionUnavailable:
    """A :class:`SessionUnavailable` caused by *exc*."""
    error = SessionUnavailable()
    error.__cause__ = exc
    return error
