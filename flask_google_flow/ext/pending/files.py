"""Pending flows as files in a folder of their own: atomic create, atomic claim, expiry inside.

Used for Flask-Session's filesystem backends (``SESSION_TYPE = "filesystem"``,
or ``"cachelib"`` with a :class:`cachelib.FileSystemCache`) and for the
embedded default session. The store owns its folder and its file format; it
never reads or writes the session backend's files.

File format
    One file per record, named ``<key>.flow`` (the key is a hex digest), mode
    ``0600``, in a folder of mode ``0700``::

        gf-pending 2 <expires_at> <length>\\n<value, UTF-8>

    ``expires_at`` is in unix seconds, possibly with leading zeros (a reused
    file keeps its size, see *Reuse*); a record past it is never returned.
    ``length`` is the value's size in bytes: a file holding fewer bytes, or
    an unfinished header (an empty file, part of the first line), is a record
    still being written (or left by a crashed writer) and counts as absent.
    Files of format 1 (``gf-pending 1 <expires_at>\\n<value>``, written by
    earlier versions, always complete) are still read.

Create
    When the process has a spare (see *Reuse*), the whole record is written
    over it, under a name no reader looks up, and the spare is renamed to
    ``<key>.flow`` (``os.replace``, atomic). Otherwise a new ``<key>.flow``
    is created with ``O_CREAT | O_EXCL`` and the record written to it: one
    creator wins, and until the last byte is written the record counts as
    absent (see ``length``). A name that exists already (``put``
    overwriting a record) is replaced instead: the record is written to a
    temporary file (``.tmp-<random>``) and renamed over it. So a reader never
    takes a partial record. Every ``write`` and ``close`` is checked: a
    failed write raises
    :class:`~flask_google_flow.ext.errors.SessionUnavailable`, it never loses
    the record silently. No ``fsync``: a pending flow lives for minutes and a
    machine crash only costs the sign-ins in progress.

Claim
    The caller reads the record and, if it is complete, takes its name away
    (``os.rename`` to a spare name, or ``os.unlink``): that succeeds for
    exactly one of any number of concurrent callers, in any process on the
    host, and only that caller gets the record; the others get
    ``FileNotFoundError`` and ``None``. An incomplete record is left in place.

Reuse
    A claimed record's file becomes a spare (``.spare-<random>``) of the
    process that claimed it, up to 16 per process and 1 KiB each; the next
    record this process creates is written over a spare (the same size or
    more, padding ``expires_at`` with zeros) and renamed into place. A
    sign-in then creates and removes no file: on ext4, creating a file can
    stall for a millisecond and more for tens of seconds after many files
    were removed (the session files of a busy app are), while writing over a
    file and renaming it do not. A process forgets its spares when it forks
    (the child's are its own), so no two processes write one spare.

Garbage collection
    At most once a minute per process, a ``put`` scans the folder and removes
    expired records, temporary files of crashed writers (older than an hour)
    and spares left for ten minutes (of idle or ended processes).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import threading
import time
from collections import deque
from collections.abc import Callable

from .base import PendingFlowStore
from .base import unavailable as _unavailable

__all__ = ["FilePendingFlowStore"]

_MAGIC = b"gf-pending 2 "
_MAGIC_V1 = b"gf-pending 1 "
_SUFFIX = ".flow"
_TEMP_PREFIX = ".tmp-"
_SPARE_PREFIX = ".spare-"
_KEY = re.compile(r"[0-9A-Za-z_-]{1,200}")
_READ_CHUNK = 65536
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: Temporary files older than this are leftovers of a crashed writer.
_LEFTOVER_SECONDS = 3600
#: Spares kept per store and process, the largest file kept as one, and how
#: long a spare may lie unused before garbage collection removes it.
_MAX_SPARES = 16
_MAX_SPARE_BYTES = 1024
_SPARE_SECONDS = 600
#: How much of a file garbage collection reads to find a record's expiry.
_HEAD_BYTES = _MAX_SPARE_BYTES + 64


class FilePendingFlowStore(PendingFlowStore):
    """Records as files in *directory* (see the module docstring for the format).

    :param directory: the store's own folder; created (mode ``0700``) if missing.
        Every process serving the app must see the same folder.
    :param gc_interval: seconds between garbage collections per process.
    :param clock: the time source for the records' expiry.
    :raises OSError: the folder cannot be created, or it is not a folder of
        this user that no one else may write to (``EPERM``): in a shared parent
        such as ``/dev/shm`` or ``/tmp`` another user could have made it first.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        gc_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = os.fspath(directory)
        self.gc_interval = gc_interval
        self._clock = clock
        self._next_gc = 0.0
        self._gc_lock = threading.Lock()
        self._spares: deque[tuple[str, int]] = deque()
        self._spares_pid = os.getpid()
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        _check_private_folder(self.directory)
        self._prefix = os.path.join(self.directory, "")

    def _path(self, name: str) -> str:
        return self._prefix + name

    def _record_path(self, key: str) -> str:
        if not _KEY.fullmatch(key):
            raise ValueError("a pending-flow key must be 1-200 letters, digits, '-' or '_'")
        return self._path(key + _SUFFIX)

    def _record_bytes(self, value: str, ttl: int, size: int = 0) -> bytes:
        """The record's bytes; at least *size* of them (``expires_at`` padded with zeros)."""
        expires_at = b"%d" % (int(self._clock()) + max(int(ttl), 1))
        encoded = value.encode("utf-8")
        length = b"%d" % len(encoded)
        short = size - (len(_MAGIC) + len(expires_at) + len(length) + 2 + len(encoded))
        if short > 0:
            expires_at = b"0" * short + expires_at
        return b"%s%s %s\n%s" % (_MAGIC, expires_at, length, encoded)

    def _write_temp(self, data: bytes) -> str:
        """*data* as a complete file under a fresh temporary name; its path.

        :raises SessionUnavailable: the folder cannot be written.
        """
        temp = self._path(_TEMP_PREFIX + secrets.token_hex(12))
        try:
            _write_new_file(temp, data)
        except OSError as exc:
            raise _unavailable(exc) from exc
        return temp

    # -- put -------------------------------------------------------------------

    def put(self, key: str, value: str, ttl: int) -> None:
        """Create the record under its name, or replace the record that has it.

        :raises SessionUnavailable: the folder cannot be written (full, read-only, gone).
        """
        final = self._record_path(key)
        spare = self._take_spare()
        if spare is None or not self._fill_spare(spare, final, value, ttl):
            data = self._record_bytes(value, ttl)
            try:
                _write_new_file(final, data)
            except FileExistsError:
                self._replace(final, data)
            except OSError as exc:
                raise _unavailable(exc) from exc
        self._maybe_collect_garbage()

    # -- spares ------------------------------------------------------------------

    def _own_spares(self) -> deque[tuple[str, int]]:
        """This process's spares (a forked child starts with none: the parent's stay its own)."""
        pid = os.getpid()
        if pid != self._spares_pid:
            self._spares = deque()
            self._spares_pid = pid
        return self._spares

    def _take_spare(self) -> tuple[str, int] | None:
        try:
            return self._own_spares().pop()
        except IndexError:
            return None

    def _fill_spare(self, spare: tuple[str, int], final: str, value: str, ttl: int) -> bool:
        """Write the record over the spare file and rename it to *final*; whether it was there.

        ``False`` when the spare cannot be opened (garbage collection removed
        it, or it is not a plain file of ours): the caller creates a new file
        instead, and an outage of the folder shows there.

        :raises SessionUnavailable: the folder cannot be written.
        """
        path, size = spare
        try:
            fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | _O_NOFOLLOW)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            return False
        try:
            try:
                _write_all(fd, self._record_bytes(value, ttl, size))
            finally:
                os.close(fd)
            os.replace(path, final)
        except FileNotFoundError:
            return False  # removed while it was written: that copy is gone with it
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise _unavailable(exc) from exc
        return True

    def _retire(self, path: str, size: int) -> None:
        """Take the claimed record's name away: keep its file as a spare, or remove it.

        :raises FileNotFoundError: another caller took the name first.
        """
        spares = self._own_spares()
        if size > _MAX_SPARE_BYTES or len(spares) >= _MAX_SPARES:
            os.unlink(path)
            return
        spare = self._path(_SPARE_PREFIX + secrets.token_hex(12))
        os.rename(path, spare)
        spares.append((spare, size))

    def _replace(self, final: str, data: bytes) -> None:
        """Write *data* under a temporary name, then rename it over *final* (atomic)."""
        temp = self._write_temp(data)
        try:
            try:
                os.replace(temp, final)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError as exc:
            raise _unavailable(exc) from exc

    # -- pop / delete ----------------------------------------------------------

    def pop(self, key: str) -> str | None:
        """Read the record, then claim it by removing its name; exactly one caller wins.

        :returns: the value, or ``None`` if the record is missing, claimed by
            another caller, expired, still being written or unreadable as a record.
        :raises SessionUnavailable: the folder cannot be read or written.
        """
        final = self._record_path(key)
        try:
            data = _read_file(final)
            parsed = _parse(data)
            if parsed is _INCOMPLETE:
                return None  # its writer is not done: not there yet, leave it
            self._retire(final, len(data))
        except FileNotFoundError:
            return None  # never there, or another caller removed it first
        except OSError as exc:
            raise _unavailable(exc) from exc
        if parsed is None:
            return None
        expires_at, value = parsed
        return value if expires_at > self._clock() else None

    def delete(self, key: str) -> None:
        """Remove the record if present.

        :raises SessionUnavailable: the folder cannot be written.
        """
        try:
            os.unlink(self._record_path(key))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _unavailable(exc) from exc

    # -- get / add (Cross-Account Protection) -----------------------------------

    def get(self, key: str) -> str | None:
        """The unexpired record's value without claiming it, or ``None``.

        :raises SessionUnavailable: the folder cannot be read.
        """
        parsed = self._read_record(self._record_path(key))
        if parsed is None or parsed is _INCOMPLETE or parsed[0] <= self._clock():
            return None
        return parsed[1]

    def add(self, key: str, value: str, ttl: int) -> bool:
        """Create the record only if no unexpired one has its name; whether it was created.

        The complete record is linked into place (``os.link`` fails if the name
        exists), so of several callers exactly one creates it. An expired
        record under the name is removed first.

        :raises SessionUnavailable: the folder cannot be written.
        """
        final = self._record_path(key)
        temp = self._write_temp(self._record_bytes(value, ttl))
        try:
            try:
                for _attempt in range(2):
                    try:
                        os.link(temp, final)
                    except FileExistsError:
                        if self._in_use(final):
                            return False
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(final)  # expired: make room, then try once more
                    else:
                        return True
                return False
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        except OSError as exc:
            raise _unavailable(exc) from exc

    def _in_use(self, path: str) -> bool:
        """Whether the file at *path* is an unexpired record or one still being written."""
        parsed = self._read_record(path)
        return parsed is _INCOMPLETE or (parsed is not None and parsed[0] > self._clock())

    @staticmethod
    def _read_record(path: str) -> tuple[int, str] | None:
        """:func:`_parse` of the file at *path*; ``None`` also when there is no file.

        :raises SessionUnavailable: the file cannot be read.
        """
        try:
            return _parse(_read_file(path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _unavailable(exc) from exc

    # -- garbage collection ----------------------------------------------------

    def _maybe_collect_garbage(self) -> None:
        now = time.monotonic()
        if now < self._next_gc or not self._gc_lock.acquire(blocking=False):
            return
        try:
            self._next_gc = now + self.gc_interval
            self.collect_garbage()
        except OSError:
            pass  # the next put tries again; a failed scan loses nothing
        finally:
            self._gc_lock.release()

    def collect_garbage(self) -> int:
        """Remove expired records and stale temporary files now.

        :returns: how many files were removed.
        :raises OSError: the folder cannot be listed.
        """
        now = self._clock()
        removed = 0
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if _is_garbage(entry, now):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed


def _check_private_folder(path: str) -> None:
    """Refuse a folder that is a symlink, another user's, or writable by group or others."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.ENOTDIR, "not a folder (a symbolic link?)", path)
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise OSError(errno.EPERM, "the folder belongs to another user", path)
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise OSError(errno.EPERM, "the folder is writable by other users", path)


def _read_file(path: str) -> bytes:
    """The whole content of the file at *path*, in unbuffered reads.

    A read of a regular file returns less than asked only at its end, so a
    record (far below the chunk size) takes one ``read``.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = []
        while True:
            chunk = os.read(fd, _READ_CHUNK)
            chunks.append(chunk)
            if len(chunk) < _READ_CHUNK:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of *data* at the file's position, completing short writes."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # pragma: no cover - os.write raises instead
            raise OSError(errno.EIO, "short write")
        view = view[written:]


def _write_new_file(path: str, data: bytes) -> None:
    """Create *path* (``O_EXCL``, ``0600``) holding *data*; every write and the close checked."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        _write_all(fd, data)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    try:
        os.close(fd)  # reports deferred write errors (e.g. on NFS)
    except OSError:
        os.unlink(path)
        raise


#: What :func:`_parse` answers for a record whose writer has not finished.
_INCOMPLETE = (0, "")


def _header(data: bytes) -> tuple[int, int, int | None] | None:
    """``(expires_at, offset of the value, its length or None)`` of a record's first bytes.

    ``None`` if *data* does not start like a record (format 2, or format 1
    which has no length).
    """
    if data.startswith(_MAGIC):
        end = data.find(b"\n", len(_MAGIC))
        fields = data[len(_MAGIC) : end].split(b" ") if end >= 0 else []
        if len(fields) != 2 or not all(field.isdigit() for field in fields):
            return None
        return int(fields[0]), end + 1, int(fields[1])
    if data.startswith(_MAGIC_V1):
        end = data.find(b"\n", len(_MAGIC_V1))
        digits = data[len(_MAGIC_V1) : end]
        if end < 0 or not digits.isdigit():
            return None
        return int(digits), end + 1, None
    return None


def _is_unfinished_header(data: bytes) -> bool:
    """Whether *data* may be the start of a format-2 record whose header is being written.

    An empty file (created, nothing written yet), a part of the magic, or the
    magic followed by digits and spaces without the line's end.
    """
    if b"\n" in data:
        return False
    if len(data) <= len(_MAGIC):
        return _MAGIC.startswith(data)
    return data.startswith(_MAGIC) and data[len(_MAGIC) :].replace(b" ", b"").isdigit()


def _parse(data: bytes) -> tuple[int, str] | None:
    """``(expires_at, value)`` of a record file's bytes.

    :returns: that; :data:`_INCOMPLETE` for a write in progress (the header
        not finished, or a value shorter than the header says); ``None`` if
        it is not a record.
    """
    header = _header(data)
    if header is None:
        return _INCOMPLETE if _is_unfinished_header(data) else None
    expires_at, offset, length = header
    value = data[offset:]
    if length is not None and len(value) != length:
        return _INCOMPLETE if len(value) < length else None
    try:
        return expires_at, value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_garbage(entry: os.DirEntry[str], now: float) -> bool:
    name = entry.name
    if name.startswith(_TEMP_PREFIX):
        return entry.stat(follow_symlinks=False).st_mtime < now - _LEFTOVER_SECONDS
    if name.startswith(_SPARE_PREFIX):  # its ctime is when it became a spare (the rename)
        return entry.stat(follow_symlinks=False).st_ctime < now - _SPARE_SECONDS
    if not name.endswith(_SUFFIX):
        return False
    try:
        with open(entry.path, "rb") as file:
            head = file.read(_HEAD_BYTES)
    except FileNotFoundError:
        return False
    header = _header(head)
    if header is None:
        return entry.stat(follow_symlinks=False).st_mtime < now - _LEFTOVER_SECONDS
    return header[0] <= now
