"""WSGI apps for the integration tests, configured by environment variables.

``create_app()`` is a tiny stand-in with the same configuration contract as
``example_app.create_app()``: ``SECRET_KEY``, ``GOOGLE_CLIENT_CONFIG`` (JSON),
``GOOGLE_FLOW_DISCOVERY_URL``, ``REDIS_URL`` (Flask-Session's Redis backend)
and ``EXAMPLE_DATABASE`` (SQLite file with an ``audit`` table getting one row
per ``store`` call). ``example()`` serves the real example app.

Both are guarded with :func:`flask_google_flow.resilience.guard_session_backend`
(idempotent, so harmless once ``GoogleFlow.init_app`` does it itself).
"""

from __future__ import annotations

import os
import sqlite3
import time

from flask import Flask, session

from flask_google_flow import GoogleFlow
from flask_google_flow.resilience import fail_fast_redis, guard_session_backend

AUDIT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit ("
    "id INTEGER PRIMARY KEY, sub TEXT, email TEXT, pid INTEGER, at REAL)"
)


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA busy_timeout = 30000")
    return connection


def create_app() -> Flask:
    """The tiny app: sign-in routes, an SQLite audit of ``store``, a ``/whoami`` page."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        GOOGLE_CLIENT_CONFIG=os.environ["GOOGLE_CLIENT_CONFIG"],
        GOOGLE_FLOW_DISCOVERY_URL=os.environ["GOOGLE_FLOW_DISCOVERY_URL"],
        GOOGLE_FLOW_HTTP_TIMEOUT=os.environ.get("GOOGLE_FLOW_HTTP_TIMEOUT", "5"),
        SESSION_TYPE="redis",
        SESSION_REDIS=fail_fast_redis(os.environ["REDIS_URL"]),
    )
    database = os.environ["EXAMPLE_DATABASE"]
    with _connect(database) as connection:
        connection.execute(AUDIT_SCHEMA)

    extension = GoogleFlow()

    @extension.store
    def store(credentials, id_info):
        with _connect(database) as connection:
            connection.execute(
                "INSERT INTO audit (sub, email, pid, at) VALUES (?, ?, ?, ?)",
                (id_info.get("sub"), id_info.get("email"), os.getpid(), time.time()),
            )

    extension.init_app(app)
    guard_session_backend(app)

    @app.get("/whoami")
    def whoami():
        user = session.get("_google_flow_user")
        return f"user {user['claims'].get('email') if user else '-'} pid {os.getpid()}"

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


def example() -> Flask:
    """``example_app.create_app()``, guarded."""
    from example_app import create_app as create_example_app

    app = create_example_app()
    guard_session_backend(app)
    return app
