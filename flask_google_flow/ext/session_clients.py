"""Session-backend clients that fail fast, and a filesystem cache that reports failed writes.

The session guard (:mod:`flask_google_flow.ext.resilience`) answers 503 as
soon as a backend's client gives up; these make that soon and make failures
visible:

* :func:`fail_fast_redis` and :func:`fail_fast_memcached`: clients for
  ``SESSION_REDIS`` / ``SESSION_MEMCACHED`` with short timeouts and one
  immediate retry of a connection the server closed;
* :class:`CheckedFileSystemCache`: cachelib's filesystem cache, raising
  :class:`SessionWriteError` where cachelib only returns ``False``.

All are also importable from :mod:`flask_google_flow.ext.resilience`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from cachelib import FileSystemCache

__all__ = [
    "CheckedFileSystemCache",
    "SessionWriteError",
    "fail_fast_memcached",
    "fail_fast_redis",
]


class SessionWriteError(OSError):
    """A session backend reported a failed write without raising (e.g. cachelib's ``set``)."""


class CheckedFileSystemCache(FileSystemCache):
    """A :class:`cachelib.FileSystemCache` whose failed writes raise.

    cachelib's ``set`` and ``delete`` log an ``OSError`` (full disk, read-only
    or unwritable folder) and return ``False``; Flask-Session ignores that
    result, so a lost session write would answer 200. This subclass raises
    :class:`SessionWriteError` (an ``OSError``) instead, which the guard turns
    into a 503. The embedded session store uses it; pass one as
    ``SESSION_CACHELIB`` to get the same for a folder of your own.

    ``set`` also answers ``False`` when another request removed the same key
    while it was being written (a race the removal won, not a lost write); so
    after a ``False`` a one-byte probe file is written in the folder, and
    only if that fails too is the disk at fault.

    :param cache_dir: the folder; other arguments as for ``FileSystemCache``.
    """

    def __init__(self, cache_dir: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(cache_dir, *args, **kwargs)
        #: The cache's folder.
        self.directory = cache_dir

    def _disk_fails(self) -> OSError | None:
        try:
            fd, probe = tempfile.mkstemp(prefix=".probe-", dir=self.directory)
            try:
                os.write(fd, b"\0")
            finally:
                os.close(fd)
                os.remove(probe)
        except OSError as exc:
            return exc
        return None

    def set(self, key: str, value: Any, timeout: Any = None, mgmt_element: bool = False) -> bool:
        """``FileSystemCache.set``; raises :class:`SessionWriteError` when the disk failed."""
        if super().set(key, value, timeout=timeout, mgmt_element=mgmt_element):
            return True
        error = self._disk_fails()
        if error is not None:
            raise SessionWriteError("the session store could not write a file") from error
        return False

    def delete(self, key: str, mgmt_element: bool = False) -> bool:
        """``FileSystemCache.delete``; raises :class:`SessionWriteError` when it failed."""
        if not super().delete(key, mgmt_element=mgmt_element):
            raise SessionWriteError("the session store could not remove a file")
        return True


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


def fail_fast_memcached(
    server: str | tuple[str, int],
    *,
    timeout: float = 1.0,
    connect_timeout: float = 1.0,
    **kwargs: Any,
) -> Any:
    """A pymemcache client for ``SESSION_MEMCACHED``: bounded waits, replies checked.

    pymemcache waits forever by default and, with ``default_noreply``, never
    reads the server's answer. This client waits at most *connect_timeout* /
    *timeout* seconds, reads every reply (``default_noreply=False``), and
    retries a command once at once when it found a connection the server had
    closed (a memcached restart), so the first request after a restart works.
    It is a pool of connections (pymemcache's ``PooledClient``), so threads of
    a threaded server never share one socket.

    :param server: ``"127.0.0.1:11211"`` or ``("127.0.0.1", 11211)``.
    :param timeout: seconds to wait for a reply.
    :param connect_timeout: seconds to wait for a connection.
    :param kwargs: passed on to pymemcache's ``PooledClient`` (e.g. ``max_pool_size``).
    """
    from pymemcache.client.base import PooledClient
    from pymemcache.client.retrying import RetryingClient
    from pymemcache.exceptions import MemcacheUnexpectedCloseError

    base = PooledClient(
        server,
        timeout=timeout,
        connect_timeout=connect_timeout,
        default_noreply=False,
        **kwargs,
    )
    return RetryingClient(base, attempts=2, retry_delay=0, retry_for=[MemcacheUnexpectedCloseError])
