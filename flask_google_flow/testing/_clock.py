"""An injectable clock for the fake Google: tests move time instead of sleeping."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """A manually advanced clock, callable like :func:`time.time`.

    Pass it as ``FakeGoogle(clock=...)`` and call :meth:`advance` to expire
    authorization codes and access tokens without sleeping.

    :param start: the initial time in seconds since the epoch; defaults to now.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Return the current fake time in seconds since the epoch."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward.

        :param seconds: how far to move; must not be negative.
        :returns: the new time.
        :raises ValueError: if ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now
