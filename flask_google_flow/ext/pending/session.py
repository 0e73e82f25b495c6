"""Fallback: pending flows inside the session itself (not race-safe)."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import Any

from .base import PendingFlowStore

__all__ = ["RECORDS_SESSION_KEY", "SessionPendingFlowStore"]

#: Session key under which :class:`SessionPendingFlowStore` keeps its records.
RECORDS_SESSION_KEY = "_google_flow_records"


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
