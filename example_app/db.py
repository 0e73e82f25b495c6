"""SQLite storage of credentials, keyed by the Google ``sub``, through GoogleFlow's callbacks.

Two tables:

``credentials``
    one row per user: the latest tokens (never the client secret), expiry and
    granted scopes, as JSON, plus the email for display.
``store_audit``
    one row per call of the ``store`` callback (each sign-in and each token
    refresh), so tests can prove that ``store`` ran exactly once per login.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from typing import Any

from flask import Flask, current_app
from google.oauth2.credentials import Credentials

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.storage import credentials_to_dict

SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    sub TEXT PRIMARY KEY,
    email TEXT,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS store_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sub TEXT NOT NULL,
    stored_at REAL NOT NULL,
    had_refresh_token INTEGER NOT NULL,
    scopes TEXT NOT NULL
);
"""


def database_path(app: Flask | None = None) -> str:
    """The SQLite file: ``EXAMPLE_DATABASE``, else ``instance/example_app.sqlite3``."""
    app = app or current_app
    path = app.config.get("EXAMPLE_DATABASE")
    return path or os.path.join(app.instance_path, "example_app.sqlite3")


BUSY_TIMEOUT_SECONDS = 30.0
"""How long a connection waits for another process's write to finish."""


@contextmanager
def connect(app: Flask | None = None, *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection for one unit of work, committed on success (one per call, thread-safe).

    Safe with several worker processes writing at once: the database is in WAL
    mode (readers never block the writer), every connection waits up to
    :data:`BUSY_TIMEOUT_SECONDS` for a lock, and ``write=True`` starts the
    transaction with ``BEGIN IMMEDIATE``, so a unit of work that writes takes
    the write lock first and never fails with "database is locked" when a
    read snapshot turns stale.
    """
    connection = sqlite3.connect(
        database_path(app), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
    )
    with closing(connection):
        connection.row_factory = sqlite3.Row
        # In WAL mode NORMAL cannot corrupt the file; it skips the fsync per commit
        # (a power cut, not a crash of the app, may lose the last commits).
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def init_app(app: Flask) -> None:
    """Create the database file and its tables, in WAL mode.

    Every worker process runs this at start; WAL mode is a property of the
    file, and both statements are safe when workers start together.
    """
    path = database_path(app)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
    with connect(app, write=True) as connection:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)


def store(credentials: Credentials | None, id_info: Mapping[str, Any]) -> None:
    """GoogleFlow's ``store`` callback: save the user's latest credentials, audit the call.

    A re-sign-in without a new refresh token needs no care here: GoogleFlow
    has already put the stored one (read through :func:`load`) into *credentials*.
    """
    sub = id_info.get("sub")
    if not sub:
        raise ValueError("cannot store credentials without the user's sub (request 'openid')")
    # None: a sign-in through POST /gsi (the GIS button or One Tap) brings an ID
    # token but no OAuth tokens; credentials stored earlier for this sub stay.
    data = credentials_to_dict(credentials) if credentials is not None else None
    with connect(write=True) as connection:
        if data is not None:
            connection.execute(
                "INSERT INTO credentials (sub, email, data, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(sub) DO UPDATE SET "
                "email = COALESCE(excluded.email, credentials.email), "
                "data = excluded.data, updated_at = excluded.updated_at",
                (sub, id_info.get("email"), json.dumps(data), time.time()),
            )
        connection.execute(
            "INSERT INTO store_audit (sub, stored_at, had_refresh_token, scopes) "
            "VALUES (?, ?, ?, ?)",
            (
                sub,
                time.time(),
                int(bool(credentials and credentials.refresh_token)),
                " ".join(data["scopes"]) if data else "",
            ),
        )


def load(sub: str | None) -> Credentials | None:
    """GoogleFlow's ``load`` callback: the stored credentials of *sub*, or ``None``."""
    if not sub:
        return None
    with connect() as connection:
        row = connection.execute("SELECT data FROM credentials WHERE sub = ?", (sub,)).fetchone()
    if row is None:
        return None
    return GoogleFlow.state().rebuild_credentials(json.loads(row["data"]))


def delete(sub: str | None) -> None:
    """GoogleFlow's ``delete`` callback: forget the credentials of *sub* (revoke)."""
    if not sub:
        return
    with connect(write=True) as connection:
        connection.execute("DELETE FROM credentials WHERE sub = ?", (sub,))


def store_count(sub: str | None = None, app: Flask | None = None) -> int:
    """How many times ``store`` ran (for *sub*, or for everyone)."""
    with connect(app) as connection:
        if sub is None:
            (count,) = connection.execute("SELECT COUNT(*) FROM store_audit").fetchone()
        else:
            query = "SELECT COUNT(*) FROM store_audit WHERE sub = ?"
            (count,) = connection.execute(query, (sub,)).fetchone()
    return count


def register_callbacks(extension: GoogleFlow) -> None:
    """Register :func:`store`, :func:`load` and :func:`delete` on *extension*."""
    extension.store(store)
    extension.load(load)
    extension.delete(delete)
