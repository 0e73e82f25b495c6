"""Pending flows in Redis (Flask-Session's Redis backend): ``SET … EX`` and ``GETDEL``."""

from __future__ import annotations

from typing import Any

from .base import DEFAULT_KEY_PREFIX, PendingFlowStore, as_text
from .base import unavailable as _unavailable

__all__ = ["RedisPendingFlowStore"]


class RedisPendingFlowStore(PendingFlowStore):
    """Records in Redis: ``SET key value EX ttl`` and ``GETDEL``.

    On servers older than Redis 6.2 (no ``GETDEL``) the pop is a
    ``MULTI``/``GET``/``DEL``/``EXEC`` transaction, equally atomic.

    :param client: a :class:`redis.Redis` client (Flask-Session's
        ``session_interface.client``).
    :param key_prefix: prepended to every key.
    """

    def __init__(self, client: Any, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        import redis.exceptions

        self.client = client
        self.key_prefix = key_prefix
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
        self._response_error = redis.exceptions.ResponseError
        self._has_getdel = True

    def put(self, key: str, value: str, ttl: int) -> None:
        """``SET prefix+key value EX ttl``."""
        try:
            self.client.set(self.key_prefix + key, value, ex=max(int(ttl), 1))
        except self._errors as exc:
            raise _unavailable(exc) from exc

    def pop(self, key: str) -> str | None:
        """``GETDEL prefix+key`` (or a ``MULTI`` transaction on old servers)."""
        full_key = self.key_prefix + key
        try:
            value = None
            if self._has_getdel:
                try:
                    value = self.client.getdel(full_key)
                except self._response_error as exc:
                    if "unknown command" not in str(exc).lower():
                        raise
                    self._has_getdel = False
            if not self._has_getdel:
                pipe = self.client.pipeline(transaction=True)
                pipe.get(full_key)
                pipe.delete(full_key)
                value, _deleted = pipe.execute()
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return as_text(value)

    def delete(self, key: str) -> None:
        """``DEL prefix+key``."""
        try:
            self.client.delete(self.key_prefix + key)
        except self._errors as exc:
            raise _unavailable(exc) from exc

    def get(self, key: str) -> str | None:
        """``GET prefix+key``."""
        try:
            value = self.client.get(self.key_prefix + key)
        except self._errors as exc:
            raise _unavailable(exc) from exc
        return as_text(value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``SET prefix+key value NX EX ttl`` (atomic)."""
        try:
            return bool(self.client.set(self.key_prefix + key, value, ex=max(int(ttl), 1), nx=True))
        except self._errors as exc:
            raise _unavailable(exc) from exc
