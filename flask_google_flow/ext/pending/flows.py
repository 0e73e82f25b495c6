"""Create, look up by state, consume once, expire: the pending flows of one app."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from ..errors import UnknownStateError
from .base import PendingFlowStore
from .record import PendingFlow

__all__ = ["BINDING_SESSION_KEY", "PENDING_SESSION_KEY", "PendingFlows"]

#: Session key of the binding value.
BINDING_SESSION_KEY = "_google_flow_binding"
#: Session key of the list of recent pending-flow ids.
PENDING_SESSION_KEY = "_google_flow_pending"
_MAX_STATE_LENGTH = 512


@functools.lru_cache(maxsize=8)
def _binding_mac(key: bytes) -> hmac.HMAC:
    """An ``HMAC-SHA256`` keyed with *key* over the binding's prefix, to copy per session.

    Copying a keyed MAC is a fraction of the cost of keying a new one (each
    new one looks the digest up again in OpenSSL); an app has one secret key,
    a few while it rotates them.
    """
    return hmac.new(key, b"google-flow-binding:", hashlib.sha256)


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
            mac = _binding_mac(secret.encode("utf-8") if isinstance(secret, str) else secret).copy()
            mac.update(sid.encode("utf-8"))
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

    @staticmethod
    def _listed_until(recent: list[Any], key: str) -> float:
        """The expiry the session's list gives the flow *key* (``inf`` if it gives none)."""
        for entry in recent:
            if isinstance(entry, list) and len(entry) > 1 and entry[0] == key:
                until = entry[1]
                if isinstance(until, (int, float)) and not isinstance(until, bool):
                    return until
        return float("inf")

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
            raise UnknownStateError(reason="missing")
        bound = isinstance(session.get(BINDING_SESSION_KEY), str)
        key = self._record_key(self._derive_binding(session, secret), state)
        text = self.store.pop(key)
        recent = session.get(PENDING_SESSION_KEY)
        listed = False
        if isinstance(recent, list):
            kept = [e for e in recent if not (isinstance(e, list) and e and e[0] == key)]
            if len(kept) != len(recent):
                session[PENDING_SESSION_KEY] = kept
                listed = True
        if text is None:
            # Only for the log line (UnknownStateError.detail); the answer is the same.
            if listed and self._listed_until(recent, key) <= self.clock():
                raise UnknownStateError(reason="expired")
            raise UnknownStateError(reason="unknown" if bound else "no_session")
        try:
            flow = PendingFlow.from_json(text)
        except ValueError:
            raise UnknownStateError() from None
        if flow.expires_at <= self.clock():
            raise UnknownStateError(reason="expired")
        return flow
