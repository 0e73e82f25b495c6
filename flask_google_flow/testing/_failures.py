"""Scripted failures: endpoint outages, malformed answers and ID-token tampering."""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Endpoints a failure can be scripted for.
ENDPOINTS = ("token", "certs", "userinfo", "revoke", "discovery")

#: Failures every endpoint can suffer.
GENERIC_FAILURES = ("server_error", "timeout", "connect_timeout", "not_json")
#: Malformed token responses (token endpoint only).
TOKEN_FAILURES = ("missing_access_token", "mac_token_type")

#: ID-token tampering kinds accepted by :meth:`FakeGoogle.tamper_id_token`.
ID_TOKEN_TAMPERS = (
    "wrong_aud",
    "wrong_iss",
    "expired",
    "wrong_nonce",
    "bad_signature",
    "alg_none",
    "wrong_hd",
    "unknown_kid",
)


class SimulatedTimeout(Exception):
    """Raised by the WSGI app to make the in-process adapter raise a ``requests`` timeout.

    :ivar connect: ``True`` for a connect timeout, ``False`` for a read timeout.
    """

    def __init__(self, connect: bool) -> None:
        self.connect = connect
        super().__init__("connect timeout" if connect else "read timeout")


@dataclass
class ScriptedFailure:
    """One scripted failure and how many more requests it applies to.

    :ivar kind: one of :data:`GENERIC_FAILURES` or :data:`TOKEN_FAILURES`.
    :ivar remaining: requests left, ``None`` for "until cleared".
    :ivar status: the HTTP status of a ``server_error``.
    :ivar delay: seconds a real server sleeps to simulate a timeout.
    """

    kind: str
    remaining: int | None
    status: int = 503
    delay: float = 5.0


class CountedHooks:
    """Thread-safe per-key hooks that fire for the next N uses or until cleared."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hooks: dict[str, ScriptedFailure] = {}

    def set(self, key: str, hook: ScriptedFailure) -> None:
        """Install ``hook`` for ``key``, replacing an earlier one."""
        with self._lock:
            self._hooks[key] = hook

    def take(self, key: str) -> ScriptedFailure | None:
        """Return the hook for ``key`` and count one use, or ``None`` if none is active."""
        with self._lock:
            hook = self._hooks.get(key)
            if hook is None:
                return None
            if hook.remaining is not None:
                hook.remaining -= 1
                if hook.remaining <= 0:
                    del self._hooks[key]
            return hook

    def clear(self, key: str | None = None) -> None:
        """Remove the hook for ``key``, or every hook."""
        with self._lock:
            if key is None:
                self._hooks.clear()
            else:
                self._hooks.pop(key, None)

    def active(self) -> dict[str, ScriptedFailure]:
        """A snapshot of the active hooks."""
        with self._lock:
            return dict(self._hooks)
