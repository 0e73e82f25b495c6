"""Pending flows in a non-file :mod:`cachelib` cache (Flask-Session's CacheLib backend).

:class:`cachelib.FileSystemCache` is not served here: its sessions get the
:class:`~flask_google_flow.ext.pending.files.FilePendingFlowStore` instead.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..errors import SessionUnavailable
from .base import DEFAULT_KEY_PREFIX, Outages, PendingFlowStore, as_text

__all__ = ["CacheLibPendingFlowStore", "NoReplyCacheError"]


class CacheLibPendingFlowStore(PendingFlowStore):
    """Records in a :mod:`cachelib` cache, through its public API only.

    The claim is ``get`` followed by a ``delete`` whose result says whether
    this caller removed the entry; only that caller gets the record
    (``SimpleCache``, ``RedisCache``, ``MemcachedCache``, …). The claim must
    be decided by the cache server, never by a reply the client invents: a
    :class:`cachelib.MemcachedCache` over a client that does not wait for
    replies (pymemcache's default ``noreply``, whose ``delete`` returns
    ``True`` for a missing key) would let every replay win, so
    :meth:`check_replies` refuses such a cache.

    Errors of the cache's client are
    :class:`~flask_google_flow.ext.errors.SessionUnavailable`.

    :param cache: a cachelib cache (Flask-Session's ``session_interface.cache``).
    :param key_prefix: prepended to every key.
    :param errors: the client's exception types meaning "unreachable"
        (``OSError`` is always one).
    :raises TypeError: *cache* is a :class:`cachelib.FileSystemCache`.
    """

    def __init__(
        self,
        cache: Any,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        *,
        errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        from cachelib import FileSystemCache, MemcachedCache

        if isinstance(cache, FileSystemCache):
            # Its delete() answers True for a missing file too: no single use.
            raise TypeError("a FileSystemCache's sessions use FilePendingFlowStore")
        self.cache = cache
        self.key_prefix = key_prefix
        self._outages = Outages(OSError, *errors)
        #: Whether :meth:`check_replies` must still run before the first use.
        self.replies_unchecked = isinstance(cache, MemcachedCache)

    def check_replies(self) -> None:
        """Check that ``delete`` of a missing key answers ``False`` (memcached caches only).

        Runs once; until it has succeeded, every operation runs it first.

        :raises NoReplyCacheError: the cache's client answers without asking the
            server, so single use cannot be guaranteed.
        :raises SessionUnavailable: the cache cannot be reached (checked again next time).
        """
        if not self.replies_unchecked:
            return
        probe = f"{self.key_prefix}probe:{secrets.token_hex(8)}"
        with self._outages:
            deleted = self.cache.delete(probe)
        if deleted:
            raise NoReplyCacheError(
                "the cachelib MemcachedCache in SESSION_CACHELIB reports deleting a key "
                "that does not exist (a client with noreply, pymemcache's default), so "
                "sign-in callbacks cannot be made single use; give it a client created "
                "with default_noreply=False, or use SESSION_TYPE='memcached'"
            )
        self.replies_unchecked = False

    def put(self, key: str, value: str, ttl: int) -> None:
        """Store the record; a write the cache refuses raises ``SessionUnavailable``."""
        self.check_replies()
        with self._outages:
            ok = self.cache.set(self.key_prefix + key, value, timeout=max(int(ttl), 1))
        if ok is False:
            raise SessionUnavailable()

    def pop(self, key: str) -> str | None:
        """Return and remove the record; of concurrent callers only the deleter gets it."""
        self.check_replies()
        full_key = self.key_prefix + key
        with self._outages:
            value = self.cache.get(full_key)
            if value is None or not self.cache.delete(full_key):
                return None
        return as_text(value)

    def delete(self, key: str) -> None:
        """Remove the record if present."""
        with self._outages:
            self.cache.delete(self.key_prefix + key)

    def get(self, key: str) -> str | None:
        """The record, or ``None`` (``cache.get``)."""
        with self._outages:
            value = self.cache.get(self.key_prefix + key)
        return as_text(value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``cache.add``: atomic for Redis and memcached caches."""
        with self._outages:
            return bool(self.cache.add(self.key_prefix + key, value, timeout=max(int(ttl), 1)))


class NoReplyCacheError(RuntimeError):
    """A cache client that answers without the server's reply cannot hold single-use records."""
