"""Pending flows in a :mod:`cachelib` cache (Flask-Session's CacheLib and filesystem backends)."""

from __future__ import annotations

import os
import secrets
import struct
import time
from typing import Any

from ..errors import SessionUnavailable
from .base import DEFAULT_KEY_PREFIX, PendingFlowStore
from .base import unavailable as _unavailable

__all__ = ["CacheLibPendingFlowStore"]


class CacheLibPendingFlowStore(PendingFlowStore):
    """Records in a :mod:`cachelib` cache (Flask-Session's CacheLib and filesystem backends).

    For :class:`cachelib.FileSystemCache` the atomic claim is the removal of
    the record's file (``os.remove`` succeeds for exactly one caller); its
    ``delete()`` cannot serve, as it returns ``True`` for a missing file too.
    For other caches the claim is ``get`` followed by a ``delete`` that
    returns ``True`` only when it removed something (``SimpleCache``,
    ``RedisCache``, ``MemcachedCache``).

    Records in a ``FileSystemCache`` are written directly (see :meth:`_put_file`) and do
    not update its ``threshold`` file count.

    :param cache: a cachelib cache (Flask-Session's ``session_interface.cache``).
    :param key_prefix: prepended to every key.
    """

    def __init__(self, cache: Any, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        self.cache = cache
        self.key_prefix = key_prefix
        try:
            from cachelib import FileSystemCache
        except ImportError:  # pragma: no cover - cachelib comes with Flask-Session
            FileSystemCache = ()  # type: ignore[assignment,misc]
        self._mode = getattr(cache, "_mode", None) or 0o600
        #: Records are claimed by removing their file: ``os.remove`` succeeds
        #: for exactly one caller (single use), whatever the write path.
        self._claims_by_file_removal = isinstance(cache, FileSystemCache)
        if self._claims_by_file_removal and not hasattr(cache, "_get_filename"):
            raise RuntimeError(
                "this cachelib FileSystemCache does not expose _get_filename; "
                "flask-google-flow cannot make sign-in callbacks single use with it "
                "(use a cachelib release that does, or the Redis session backend)"
            )
        #: Records are written in one ``open(O_EXCL)`` when cachelib's file
        #: layout reads them back (probed once); else through ``cache.set``.
        self._writes_files_directly = (
            self._claims_by_file_removal
            and hasattr(cache, "serializer")
            and self._direct_writes_round_trip()
        )

    def _direct_writes_round_trip(self) -> bool:
        """Whether cachelib reads back a record written by :meth:`_put_file`.

        The direct write depends on cachelib's file layout; a cachelib release
        that changed it would make every record unreadable. Checked once per
        store: if the probe does not read back, the public ``cache.set`` is used.
        """
        probe_key = f"{self.key_prefix}probe:{secrets.token_hex(8)}"
        try:
            self._put_file(probe_key, "probe", 60)
            readable = self.cache.get(probe_key) == "probe"
            os.remove(self.cache._get_filename(probe_key))
        except Exception:
            return False
        return readable

    def put(self, key: str, value: str, ttl: int) -> None:
        """Store the record; a failed write raises ``SessionUnavailable``."""
        if self._writes_files_directly:
            self._put_file(self.key_prefix + key, value, ttl)
            return
        try:
            ok = self.cache.set(self.key_prefix + key, value, timeout=ttl)
        except OSError as exc:
            raise _unavailable(exc) from exc
        if ok is False:
            raise SessionUnavailable()

    def pop(self, key: str) -> str | None:
        """Return and remove the record, atomically (see the class docstring)."""
        full_key = self.key_prefix + key
        try:
            value = self.cache.get(full_key)
            if self._claims_by_file_removal:
                try:
                    os.remove(self.cache._get_filename(full_key))
                except FileNotFoundError:
                    return None  # someone else claimed it (or it never existed)
                claimed = True
            else:
                claimed = bool(self.cache.delete(full_key))
        except OSError as exc:
            raise _unavailable(exc) from exc
        if not claimed or value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def _put_file(self, full_key: str, value: str, ttl: int) -> None:
        """Write a record file in cachelib's format, in one ``open(O_EXCL)`` and one write.

        The record's key is unique (it hashes a fresh random state), so there
        is nothing to replace atomically and no temporary file is needed: the
        state is not known to anyone until the write is complete. cachelib's
        own ``get`` and pruning read these files like any other entry.

        cachelib's file count (its ``threshold`` bookkeeping) is not updated:
        rewriting the count file costs as much as the record itself, doubling
        the cost of ``/authorize``. Records are short-lived (popped by the
        callback, or expired and pruned), so the count under-states the
        directory by about the number of sign-ins in progress; cachelib
        recounts the directory whenever a process creates the cache.
        """
        filename = self.cache._get_filename(full_key)
        data = struct.pack("I", int(time.time()) + max(int(ttl), 1))
        data += self.cache.serializer.dumps(value)
        try:
            try:
                fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_EXCL, self._mode)
            except FileExistsError:
                # Only a caller re-using a key gets here: replace atomically.
                if self.cache.set(full_key, value, timeout=ttl) is False:
                    raise SessionUnavailable() from None
                return
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as exc:
            raise _unavailable(exc) from exc

    def delete(self, key: str) -> None:
        """Remove the record if present."""
        if self._claims_by_file_removal:
            try:
                os.remove(self.cache._get_filename(self.key_prefix + key))
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise _unavailable(exc) from exc
            return
        try:
            self.cache.delete(self.key_prefix + key)
        except OSError as exc:
            raise _unavailable(exc) from exc

    def get(self, key: str) -> str | None:
        """The record, or ``None`` (``cache.get``)."""
        try:
            value = self.cache.get(self.key_prefix + key)
        except OSError as exc:
            raise _unavailable(exc) from exc
        return value if value is None or isinstance(value, str) else str(value)

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``cache.add``: atomic for Redis and memcached caches, check-then-set for files."""
        try:
            return bool(self.cache.add(self.key_prefix + key, value, timeout=max(int(ttl), 1)))
        except OSError as exc:
            raise _unavailable(exc) from exc
