"""Pending flows in memcached through pymemcache (Flask-Session's memcached backend).

The claim is decided by the memcached server: ``get``, then
``delete(key, noreply=False)``, which answers ``DELETED`` to exactly one of
any number of concurrent callers and ``NOT_FOUND`` to the others. Every
command waits for the server's reply (``noreply=False``), so a write the
server did not store raises instead of being assumed, and a ``delete`` of a
missing key is never reported as done (pymemcache's ``default_noreply=True``
would answer ``True`` without asking).
"""

from __future__ import annotations

from typing import Any

from ..errors import SessionUnavailable
from .base import DEFAULT_KEY_PREFIX, Outages, PendingFlowStore, as_text

__all__ = ["MemcachedPendingFlowStore", "is_pymemcache_client", "writes_without_reply"]

#: memcached treats an expiry above 30 days as a unix timestamp.
_MAX_RELATIVE_EXPIRY = 30 * 24 * 3600


def is_pymemcache_client(client: object) -> bool:
    """Whether *client* is one of pymemcache's clients (base, pooled, hash or retrying)."""
    try:
        from pymemcache.client.base import Client, PooledClient
        from pymemcache.client.hash import HashClient
        from pymemcache.client.retrying import RetryingClient
    except ImportError:
        return False
    return isinstance(client, (Client, PooledClient, HashClient, RetryingClient))


def writes_without_reply(client: object) -> bool:
    """Whether a pymemcache *client* sends writes with ``noreply`` unless told otherwise.

    Flask-Session's session writes then go unconfirmed: with a pool of
    connections, a browser's next request may read its session before the
    previous write reached the server (a lost sign-in, "Sign-in expired").
    """
    from pymemcache.client.retrying import RetryingClient

    if isinstance(client, RetryingClient):
        # It forwards every attribute as a call to the client it wraps and does not
        # expose that client: nothing to read (fail_fast_memcached's reads replies).
        return False
    default = getattr(client, "default_noreply", None)
    if default is None:  # HashClient keeps its clients' options in default_kwargs
        default = getattr(client, "default_kwargs", {}).get("default_noreply", True)
    return bool(default)


class MemcachedPendingFlowStore(PendingFlowStore):
    """Records in memcached: ``set``/``get``/``delete`` with ``noreply=False``.

    Values are stored as UTF-8 bytes, so any serde the app's client has
    passes them through unchanged.

    Use a thread-safe client (``PooledClient`` or ``HashClient``) with a
    threaded server; pymemcache's base ``Client`` is one socket.

    :param client: a pymemcache client (Flask-Session's ``session_interface.client``).
    :param key_prefix: prepended to every key.
    """

    def __init__(self, client: Any, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        from pymemcache.exceptions import MemcacheError

        self.client = client
        self.key_prefix = key_prefix
        self._outages = Outages(MemcacheError, OSError)

    def put(self, key: str, value: str, ttl: int) -> None:
        """``set`` and wait for ``STORED``; any other answer raises ``SessionUnavailable``."""
        expire = min(max(int(ttl), 1), _MAX_RELATIVE_EXPIRY)
        with self._outages:
            stored = self.client.set(
                self.key_prefix + key, value.encode("utf-8"), expire=expire, noreply=False
            )
        if not stored:
            raise SessionUnavailable()

    def pop(self, key: str) -> str | None:
        """``get``, then ``delete`` answered by the server: only its ``DELETED`` wins."""
        full_key = self.key_prefix + key
        with self._outages:
            value = self.client.get(full_key)
            if value is None or not self.client.delete(full_key, noreply=False):
                return None
        return as_text(value)

    def delete(self, key: str) -> None:
        """``delete`` (answered)."""
        with self._outages:
            self.client.delete(self.key_prefix + key, noreply=False)

    def get(self, key: str) -> str | None:
        """``get``: the record without claiming it, or ``None``."""
        with self._outages:
            value = self.client.get(self.key_prefix + key)
        return as_text(value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``add`` answered by the server: ``STORED`` only if the key was absent."""
        expire = min(max(int(ttl), 1), _MAX_RELATIVE_EXPIRY)
        with self._outages:
            return bool(
                self.client.add(
                    self.key_prefix + key, value.encode("utf-8"), expire=expire, noreply=False
                )
            )
