"""Pending flows in a SQL table through SQLAlchemy Core (Flask-Session's ``sqlalchemy`` backend).

The store uses the engine of the app's session table and a table of its own,
``google_flow_pending`` (created if missing, in the session table's schema)::

    id          VARCHAR(255) PRIMARY KEY   -- key prefix + hex digest
    value       TEXT NOT NULL              -- the pending-flow record (JSON)
    expires_at  BIGINT NOT NULL, indexed   -- unix seconds

Claim
    Where the dialect has ``DELETE … RETURNING`` (PostgreSQL, SQLite 3.35+,
    MariaDB 10.5+), ``pop`` is that one statement: the database deletes the
    row for exactly one of any number of concurrent callers. Elsewhere (MySQL)
    it is a transaction that reads the row, then deletes it and wins only if
    the delete's row count is 1; a concurrent second delete waits for the
    first one's row lock and then finds nothing.

Expiry and garbage collection
    A row past ``expires_at`` is never returned. At most once a minute per
    process, a ``put`` deletes the expired rows.

Errors
    SQLAlchemy's ``DBAPIError`` (``OperationalError``, disconnects,
    ``InterfaceError``), pool ``TimeoutError`` and ``OSError`` are
    :class:`~flask_google_flow.ext.errors.SessionUnavailable` (503). How long
    a call may wait is the engine's: set the driver's connect timeout and the
    pool's ``pool_timeout`` (see the deployment guide).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .base import PendingFlowStore
from .base import unavailable as _unavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["DEFAULT_TABLE", "SqlPendingFlowStore"]

#: Name of the store's own table.
DEFAULT_TABLE = "google_flow_pending"


class SqlPendingFlowStore(PendingFlowStore):
    """Records in a table of their own, claimed with ``DELETE … RETURNING`` (see the module doc).

    :param engine: a SQLAlchemy :class:`~sqlalchemy.engine.Engine`.
    :param table_name: the table's name.
    :param schema: the table's schema (``None``: the connection's default).
    :param key_prefix: prepended to every key (several apps may share a table).
    :param use_returning: force (``True``) or avoid (``False``) ``DELETE …
        RETURNING``; ``None`` uses it where the dialect has it.
    :param gc_interval: seconds between garbage collections per process.
    :param clock: the time source for expiry.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table_name: str = DEFAULT_TABLE,
        schema: str | None = None,
        key_prefix: str = "",
        use_returning: bool | None = None,
        gc_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import sqlalchemy as sa
        import sqlalchemy.exc

        self.engine = engine
        self.key_prefix = key_prefix
        self.use_returning = use_returning
        self.gc_interval = gc_interval
        self._clock = clock
        self._next_gc = 0.0
        self._lock = threading.Lock()
        self._table_ready = False
        metadata = sa.MetaData()
        self.table = sa.Table(
            table_name,
            metadata,
            sa.Column("id", sa.String(255), primary_key=True),
            sa.Column("value", sa.Text(), nullable=False),
            sa.Column("expires_at", sa.BigInteger(), nullable=False),
            sa.Index(f"ix_{table_name}_expires_at", "expires_at"),
            schema=schema,
        )
        self._integrity_error = sqlalchemy.exc.IntegrityError
        self._errors: tuple[type[BaseException], ...] = (
            sqlalchemy.exc.DBAPIError,
            sqlalchemy.exc.TimeoutError,
            sqlalchemy.exc.DisconnectionError,
            OSError,
        )

    # -- the table -------------------------------------------------------------

    def create_table(self) -> None:
        """Create the table (and its index) unless it exists.

        Several processes may run this at once: a failed ``CREATE`` is fine
        when the table exists afterwards.

        :raises SessionUnavailable: the database cannot be reached.
        """
        import sqlalchemy as sa

        with self._lock:
            if self._table_ready:
                return
            try:
                try:
                    self.table.create(self.engine, checkfirst=True)
                except self._errors:
                    exists = sa.inspect(self.engine).has_table(
                        self.table.name, schema=self.table.schema
                    )
                    if not exists:
                        raise
            except self._errors as exc:
                raise _unavailable(exc) from exc
            self._table_ready = True

    def _ready(self) -> None:
        if not self._table_ready:
            self.create_table()

    def _failed(self, exc: BaseException) -> BaseException:
        # The table may have been dropped: check again on the next call.
        self._table_ready = False
        return _unavailable(exc)

    # -- the operations --------------------------------------------------------

    def put(self, key: str, value: str, ttl: int) -> None:
        """``INSERT`` the row (committed before returning); an existing key's row is replaced.

        :raises SessionUnavailable: the database cannot be reached or refused the row.
        """
        self._ready()
        expires_at = int(self._clock()) + max(int(ttl), 1)
        row = {"id": self.key_prefix + key, "value": value, "expires_at": expires_at}
        try:
            try:
                with self.engine.begin() as connection:
                    connection.execute(self.table.insert(), row)
            except self._integrity_error:
                # The key exists (a caller re-using one): replace its value.
                with self.engine.begin() as connection:
                    statement = self.table.update().where(self.table.c.id == row["id"])
                    connection.execute(statement, {k: row[k] for k in ("value", "expires_at")})
        except self._errors as exc:
            raise self._failed(exc) from exc
        self._maybe_collect_garbage()

    def pop(self, key: str) -> str | None:
        """Delete the row and return its value; exactly one concurrent caller gets it."""
        self._ready()
        full_key = self.key_prefix + key
        try:
            with self.engine.begin() as connection:
                row = self._claim(connection, full_key)
        except self._errors as exc:
            raise self._failed(exc) from exc
        if row is None:
            return None
        value, expires_at = row
        return value if expires_at > self._clock() else None

    def _claim(self, connection: Connection, full_key: str) -> tuple[str, int] | None:
        table = self.table
        where = table.c.id == full_key
        returning = self.use_returning
        if returning is None:
            returning = connection.dialect.delete_returning
        if returning:
            statement = table.delete().where(where).returning(table.c.value, table.c.expires_at)
            found = connection.execute(statement).first()
            return None if found is None else (found[0], found[1])
        found = connection.execute(
            table.select().with_only_columns(table.c.value, table.c.expires_at).where(where)
        ).first()
        if found is None:
            return None
        if connection.execute(table.delete().where(where)).rowcount != 1:
            return None  # another caller deleted it first
        return found[0], found[1]

    def delete(self, key: str) -> None:
        """``DELETE`` the row if present."""
        self._ready()
        try:
            with self.engine.begin() as connection:
                statement = self.table.delete().where(self.table.c.id == self.key_prefix + key)
                connection.execute(statement)
        except self._errors as exc:
            raise self._failed(exc) from exc

    # -- get / add (Cross-Account Protection) -----------------------------------

    def get(self, key: str) -> str | None:
        """The unexpired row's value without claiming it, or ``None``."""
        self._ready()
        table = self.table
        statement = (
            table.select()
            .with_only_columns(table.c.value)
            .where(table.c.id == self.key_prefix + key)
            .where(table.c.expires_at > int(self._clock()))
        )
        try:
            with self.engine.connect() as connection:
                found = connection.execute(statement).first()
        except self._errors as exc:
            raise self._failed(exc) from exc
        return None if found is None else found[0]

    def add(self, key: str, value: str, ttl: int) -> bool:
        """``INSERT`` the row unless an unexpired one has the key; whether it was inserted.

        The primary key decides between concurrent callers; an expired row
        under the key is deleted first.
        """
        self._ready()
        now = int(self._clock())
        full_key = self.key_prefix + key
        row = {"id": full_key, "value": value, "expires_at": now + max(int(ttl), 1)}
        table = self.table
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    table.delete().where(table.c.id == full_key).where(table.c.expires_at <= now)
                )
            try:
                with self.engine.begin() as connection:
                    connection.execute(table.insert(), row)
            except self._integrity_error:
                return False
        except self._errors as exc:
            raise self._failed(exc) from exc
        return True

    # -- garbage collection ----------------------------------------------------

    def _maybe_collect_garbage(self) -> None:
        now = time.monotonic()
        if now < self._next_gc:
            return
        self._next_gc = now + self.gc_interval
        # A failed collection loses nothing: expired rows are never returned.
        with contextlib.suppress(*self._errors):
            self.collect_garbage()

    def collect_garbage(self) -> int:
        """Delete the expired rows now.

        :returns: how many rows were deleted.
        """
        statement = self.table.delete().where(self.table.c.expires_at <= int(self._clock()))
        with self.engine.begin() as connection:
            return connection.execute(statement).rowcount
