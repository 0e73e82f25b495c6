"""Pending flows: create, look up by state, consume once, expire.

A *pending flow* is what ``/authorize`` must remember until ``/oauth2callback``:
the PKCE code verifier, the OIDC nonce, the validated ``next`` URL, the extra
scopes and the redirect URI. Each is its **own record** in the session
backend, not an entry of a dict inside the session, because Flask-Session
writes the whole session on every request and two tabs starting a sign-in at
the same moment would overwrite each other's entry.

Usage by the view code (``secret`` is the app's ``SECRET_KEY``)::

    pending = PendingFlows(store_for_session_interface(app.session_interface))

    # /authorize
    state = pending.begin(session, PendingFlow(verifier, nonce, next_url, (), redirect_uri),
                          secret=app.secret_key)
    # /oauth2callback
    flow = pending.consume(session, request.args["state"], secret=app.secret_key)
    # raises errors.UnknownStateError: unknown, other session, expired or used

Session binding
    The record key is ``key_prefix + sha256(f"{binding}:{state}").hexdigest()``.
    ``binding`` is a random value kept in the session under
    ``_google_flow_binding``; until it is there it is derived as
    ``HMAC-SHA256(secret, session.sid)``, so concurrent first requests of one
    session agree on it without racing (a session without ``sid``, or no
    secret, gets a random binding). A state stolen from or forged for another
    browser session names no record of this one. The binding survives a
    session-id rotation because it is stored in the session.

Single use and expiry
    :meth:`PendingFlows.consume` pops the record atomically (Redis ``GETDEL``,
    an atomic file removal for the filesystem cache), so of two parallel
    callbacks with the same state exactly one gets the flow. Expiry is the
    record's own ``expires_at`` checked against the injectable clock; the
    backend TTL only collects garbage.

Per-session cap
    The session keeps the ids of its recent pending flows under
    ``_google_flow_pending``; beyond ``max_per_session`` the oldest record is
    deleted. Two concurrent ``/authorize`` requests may each write that list
    and one update may be lost. That is harmless: the list is used only for
    this cap, never to accept a callback; a record missing from it still
    expires on its own, so the cap is exceeded by at most the number of
    simultaneous requests, for at most the TTL.

Backends
    :func:`store_for_session_interface` picks :class:`RedisPendingFlowStore`
    for Flask-Session's Redis interface, :class:`CacheLibPendingFlowStore` for
    its CacheLib and filesystem interfaces, and otherwise
    :class:`SessionPendingFlowStore`, which keeps the records inside the
    session itself (not race-safe: concurrent sign-ins of one browser may
    lose a record, and a replay is single-use only as far as the session
    backend's last write wins). A backend that cannot be reached raises
    :class:`~flask_google_flow.errors.SessionUnavailable` (503).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .errors import SessionUnavailable, UnknownStateError

__all__ = [
    "BINDING_SESSION_KEY",
    "PENDING_SESSION_KEY",
    "CacheLibPendingFlowStore",
    "PendingFlow",
    "PendingFlowStore",
    "PendingFlows",
    "RedisPendingFlowStore",
    "SessionPendingFlowStore",
    "store_for_session_interface",
]

#: Session key of the binding value.
BINDING_SESSION_KEY = "_google_flow_binding"
#: Session key of the list of recent pending-flow ids.
PENDING_SESSION_KEY = "_google_flow_pending"
#: Session key under which :class:`SessionPendingFlowStore` keeps its records.
RECORDS_SESSION_KEY = "_google_flow_records"
#: The default key prefix of records in a shared backend.
DEFAULT_KEY_PREFIX = "google-flow:pending:"

_MAX_STATE_LENGTH = 512
#: One compact encoder for every record (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass
class PendingFlow:
    """What ``/oauth2callback`` needs to finish a sign-in started by ``/authorize``.

    :ivar code_verifier: the PKCE code verifier.
    :ivar nonce: the OIDC nonce sent in the authorization request.
    :ivar next_url: the validated URL to send the browser to afterwards.
    :ivar extra_scopes: scopes requested on top of the configured ones.
    :ivar redirect_uri: the exact redirect URI sent (the token request repeats it).
    :ivar expires_at: unix seconds after which the flow is refused; set by
        :meth:`PendingFlows.begin`.
    """

    code_verifier: str = field(repr=False)
    nonce: str = field(repr=False)
    next_url: str
    extra_scopes: tuple[str, ...]
    redirect_uri: str
    expires_at: int = 0

    def to_json(self, *, expires_at: int | None = None) -> str:
        """Compact JSON with one-letter keys; empty optional fields are omitted.

        :param expires_at: the expiry to write instead of :attr:`expires_at`
            (:meth:`PendingFlows.begin` sets it without copying the flow).
        """
        data: dict[str, Any] = {
            "v": self.code_verifier,
            "n": self.nonce,
            "u": self.next_url,
            "r": self.redirect_uri,
            "e": int(self.expires_at if expires_at is None else expires_at),
        }
        if self.extra_scopes:
            data["s"] = list(self.extra_scopes)
        return _ENCODER.encode(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingFlow:
        """Parse :meth:`to_json`'s output.

        :raises ValueError: the text is not a valid record.
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a pending flow record must be a JSON object")
        verifier, nonce, next_url, redirect_uri = (data.get(k) for k in ("v", "n", "u", "r"))
        if not (
            isinstance(verifier, str)
            and isinstance(nonce, str)
            and isinstance(next_url, str)
            and isinstance(redirect_uri, str)
        ):
            raise ValueError("a pending flow record lacks a required field")
        expires_at = data.get("e")
        if isinstance(expires_at, bool) or not isinstance(expires_at, int):
            raise ValueError("a pending flow record has no valid expiry")
        scopes = data.get("s", [])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("a pending flow record has invalid scopes")
        return cls(
            code_verifier=verifier,
            nonce=nonce,
            next_url=next_url,
            extra_scopes=tuple(scopes),
            redirect_uri=redirect_uri,
            expires_at=expires_at,
        )


# -- stores -------------------------------------------------------------------


class PendingFlowStore(ABC):
    """Where pending-flow records live: a key-value store with atomic pop.

    Keys passed in are hex digests; a store adds its own prefix. Every method
    raises :class:`~flask_google_flow.errors.SessionUnavailable` when the
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


def _unavailable(exc: BaseException) -> SessionUnavailable:
    error = SessionUnavailable()
    error.__cause__ = exc
    return error


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
        if value is None:
            return None
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def delete(self, key: str) -> None:
        """``DEL prefix+key``."""
        try:
            self.client.delete(self.key_prefix + key)
        except self._errors as exc:
            raise _unavailable(exc) from exc


class SessionPendingFlowStore(PendingFlowStore):
    """Fallback: records inside the session itself, under ``_google_flow_records``.

    Used when the session interface is not one whose backend can be
    addressed directly (e.g. Flask's signed-cookie session). **Not race-safe**:
    the session is written as a whole, so two concurrent requests of one
    browser may lose a record (that sign-in must be restarted), and a replayed
    callback is refused only once the first callback's session was saved.

    :param get_session: returns the current session; defaults to
        :data:`flask.session`.
    :param clock: the time source for the garbage-collection TTL.
    """

    def __init__(
        self,
        get_session: Callable[[], MutableMapping[str, Any]] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._get_session = get_session or _flask_session
        self._clock = clock

    def _records(self, create: bool) -> dict[str, list[Any]] | None:
        session = self._get_session()
        records = session.get(RECORDS_SESSION_KEY)
        if not isinstance(records, dict):
            if not create:
                return None
            records = {}
        return records

    def _save(self, records: dict[str, list[Any]]) -> None:
        session = self._get_session()
        if records:
            session[RECORDS_SESSION_KEY] = records
        else:
            session.pop(RECORDS_SESSION_KEY, None)

    def put(self, key: str, value: str, ttl: int) -> None:
        """Add the record to the session (dropping records past their TTL)."""
        records = self._records(create=True)
        assert records is not None
        now = self._clock()
        records = {k: v for k, v in records.items() if isinstance(v, list) and v[1] > now}
        records[key] = [value, now + ttl]
        self._save(records)

    def pop(self, key: str) -> str | None:
        """Remove the record from the session and return it."""
        records = self._records(create=False)
        if not records or key not in records:
            return None
        entry = records.pop(key)
        self._save(records)
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
            return None
        return entry[0]

    def delete(self, key: str) -> None:
        """Remove the record from the session if present."""
        records = self._records(create=False)
        if records and key in records:
            del records[key]
            self._save(records)


def _flask_session() -> MutableMapping[str, Any]:
    from flask import session

    return session


def store_for_session_interface(
    session_interface: Any, *, key_prefix: str = DEFAULT_KEY_PREFIX
) -> PendingFlowStore:
    """The pending-flow store that matches an app's session interface.

    :param session_interface: ``app.session_interface``.
    :param key_prefix: prefix of the records' keys in a shared backend.
    :returns: a :class:`RedisPendingFlowStore` for Flask-Session's
        ``RedisSessionInterface``, a :class:`CacheLibPendingFlowStore` for its
        ``CacheLibSessionInterface`` and ``FileSystemSessionInterface``, else a
        :class:`SessionPendingFlowStore`.
    """
    try:
        from flask_session.cachelib import CacheLibSessionInterface
        from flask_session.filesystem import FileSystemSessionInterface
        from flask_session.redis import RedisSessionInterface
    except ImportError:  # pragma: no cover - Flask-Session is a dependency
        return SessionPendingFlowStore()
    if isinstance(session_interface, RedisSessionInterface):
        return RedisPendingFlowStore(session_interface.client, key_prefix=key_prefix)
    if isinstance(session_interface, (CacheLibSessionInterface, FileSystemSessionInterface)):
        return CacheLibPendingFlowStore(session_interface.cache, key_prefix=key_prefix)
    return SessionPendingFlowStore()


# -- the pending flows of an app ---------------------------------------------


class PendingFlows:
    """Creates and consumes the pending flows of one app; holds no per-request state.

    :param store: where the records live.
    :param ttl: seconds a sign-in may take between ``/authorize`` and the callback.
    :param max_per_session: pending flows kept per session; beyond, the
        oldest is deleted.
    :param clock: the time source for expiry.
    """

    def __init__(
        self,
        store: PendingFlowStore,
        *,
        ttl: int = 600,
        max_per_session: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl <= 0 or max_per_session <= 0:
            raise ValueError("ttl and max_per_session must be positive")
        self.store = store
        self.ttl = int(ttl)
        self.max_per_session = max_per_session
        self.clock = clock

    @staticmethod
    def _derive_binding(session: MutableMapping[str, Any], secret: str | bytes | None) -> str:
        value = session.get(BINDING_SESSION_KEY)
        if isinstance(value, str) and value:
            return value
        sid = getattr(session, "sid", None)
        if secret and isinstance(sid, str) and sid:
            key = secret.encode("utf-8") if isinstance(secret, str) else secret
            mac = hmac.new(key, b"google-flow-binding:" + sid.encode("utf-8"), "sha256")
            return mac.hexdigest()
        return secrets.token_hex(32)

    @classmethod
    def binding(cls, session: MutableMapping[str, Any], secret: str | bytes | None = None) -> str:
        """The session's binding value, creating and storing it if absent.

        :param session: the current session.
        :param secret: the app's secret key; with the session's ``sid`` it
            derives the binding deterministically (``HMAC-SHA256``), so
            concurrent first requests of one session agree. Without either,
            the binding is random.
        """
        value = cls._derive_binding(session, secret)
        if session.get(BINDING_SESSION_KEY) != value:
            session[BINDING_SESSION_KEY] = value
        return value

    @staticmethod
    def _record_key(binding: str, state: str) -> str:
        return hashlib.sha256(f"{binding}:{state}".encode()).hexdigest()

    def begin(
        self,
        session: MutableMapping[str, Any],
        flow: PendingFlow,
        *,
        secret: str | bytes | None = None,
    ) -> str:
        """Store a new pending flow and return its ``state``.

        :param session: the current session (gets the binding and the id list).
        :param flow: the flow; its ``expires_at`` is set to now + ``ttl``.
        :param secret: the app's secret key (see :meth:`binding`).
        :returns: a fresh ``state`` (``secrets.token_urlsafe(32)``).
        :raises SessionUnavailable: the backend cannot be reached.
        """
        binding = self.binding(session, secret)
        state = secrets.token_urlsafe(32)
        key = self._record_key(binding, state)
        now = self.clock()
        expires_at = int(now) + self.ttl
        self.store.put(key, flow.to_json(expires_at=expires_at), self.ttl)

        recent = session.get(PENDING_SESSION_KEY)
        if not isinstance(recent, list):
            recent = []
        recent = [
            entry
            for entry in recent
            if isinstance(entry, list) and len(entry) == 2 and entry[1] > now
        ]
        recent.append([key, expires_at])
        while len(recent) > self.max_per_session:
            evicted = recent.pop(0)
            self.store.delete(evicted[0])
        session[PENDING_SESSION_KEY] = recent
        return state

    def consume(
        self,
        session: MutableMapping[str, Any],
        state: str | None,
        *,
        secret: str | bytes | None = None,
    ) -> PendingFlow:
        """Pop the pending flow named by ``state`` (single use, whatever happens next).

        :param session: the current session.
        :param state: the callback's ``state`` parameter.
        :param secret: the app's secret key (see :meth:`binding`).
        :returns: the flow.
        :raises UnknownStateError: the state is missing, malformed, unknown to
            this session, expired or already used.
        :raises SessionUnavailable: the backend cannot be reached.
        """
        if not isinstance(state, str) or not state or len(state) > _MAX_STATE_LENGTH:
            raise UnknownStateError()
        key = self._record_key(self._derive_binding(session, secret), state)
        text = self.store.pop(key)
        recent = session.get(PENDING_SESSION_KEY)
        if isinstance(recent, list):
            kept = [e for e in recent if not (isinstance(e, list) and e and e[0] == key)]
            if len(kept) != len(recent):
                session[PENDING_SESSION_KEY] = kept
        if text is None:
            raise UnknownStateError()
        try:
            flow = PendingFlow.from_json(text)
        except ValueError:
            raise UnknownStateError() from None
        if flow.expires_at <= self.clock():
            raise UnknownStateError()
        return flow
