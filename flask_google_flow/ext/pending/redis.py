"""Pending flows in Redis (Flask-Session's Redis backend): ``SET … EX`` and ``GETDEL``."""

from __future__ import annotations

from typing import Any

from .base import DEFAULT_KEY_PREFIX, Outages, PendingFlowStore, as_text

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
        self._outages = Outages(
            redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError
        )
        self._response_error = redis.exceptions.ResponseError
        self._has_getdel = True

    def put(self, key: str, value: str, ttl: int) -> None:
        """``SET prefix+key value EX ttl``."""
        with self._outages:
            self.client.set(self.key_prefix + key, value, ex=max(int(ttl), 1))

    def pop(self, key: str) -> str | None:
        """``GETDEL prefix+key`` (or a ``MULTI`` transaction on old servers)."""
        full_key = self.key_prefix + key
        with self._outages:
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
        return as_text(value)

    def delete(self, key: str) -> None:
        """``DEL prefix+key``."""
        with self._outages:
            self.client.delete(self.key_prefix + key)

    def get(self, key: str) -> str | None:
        """``GET prefix+key``."""
        with self._outages:
            value = self.client.get(self.key_prefix + key)
        return as_text(value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``SET prefix+key value NX EX ttl`` (atomic)."""
        with self._outages:
            return bool(self.client.set(self.key_prefix + key, value, ex=max(int(ttl), 1), nx=True))
