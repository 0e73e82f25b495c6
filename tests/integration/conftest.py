"""Fixtures: a private redis-server, the fake Google over HTTP, the example app under gunicorn.

The app under gunicorn is the example app, ``example_app:create_app()``,
configured by its environment variables (``SECRET_KEY``,
``GOOGLE_CLIENT_CONFIG``, ``GOOGLE_FLOW_DISCOVERY_URL``,
``GOOGLE_FLOW_CA_BUNDLE`` — the fake's back channel is https — ``REDIS_URL``,
``EXAMPLE_DATABASE``), passed to gunicorn's process only. Its SQLite
``store_audit`` table has one row per ``store`` call, by ``sub``. Gunicorn's
access log records the worker PID of every request (path only, never the
query string with its code and state).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flask_google_flow.testing import FakeGoogle
from tests.conftest import require

from .harness import Gunicorn, RedisServer, free_port

EXAMPLE_APP = "example_app:create_app()"
ACCESS_LOG_FORMAT = "%(p)s %(m)s %(U)s %(s)s"
"""Gunicorn access-log line: worker PID, method, path (no query string), status."""


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """The fake Google over real HTTP (a thread of this process), auto-approving."""
    fake = FakeGoogle(interactive=False)
    with fake.serve():
        yield fake


def store_calls(database: Path) -> Counter:
    """How many times the example app's ``store`` ran, per ``sub`` (its ``store_audit``)."""
    with sqlite3.connect(database, timeout=30) as connection:
        rows = connection.execute("SELECT sub, COUNT(*) FROM store_audit GROUP BY sub")
        return Counter(dict(rows.fetchall()))


def worker_pids(access_log: Path, path: str) -> Counter:
    """How many requests to *path* each gunicorn worker answered (from the access log)."""
    pids: Counter = Counter()
    for line in access_log.read_text(encoding="utf-8").splitlines():
        pid, _method, request_path, _status = line.split(" ", 3)
        if request_path == path:
            pids[int(pid.strip("<>"))] += 1  # gunicorn writes "<1234>"
    return pids


@pytest.fixture
def start_app(
    redis_server: RedisServer, fake_google: FakeGoogle, tmp_path: Path
) -> Iterator[Callable[..., Gunicorn]]:
    """``start_app(**env)``: the example app under gunicorn (4 workers) on Redis and the fake.

    Every server started in one test shares the Redis server and the SQLite
    database (``server.database``), like hosts of one deployment; each has its
    own access log (``server.access_log``).
    """
    require(
        importlib.util.find_spec("gunicorn") is not None,
        "gunicorn is not installed",
        "pip install gunicorn (it is in the test extra)",
    )
    started: list[Gunicorn] = []

    def start(workers: int = 4, **env: str) -> Gunicorn:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        fake_google.register_redirect_uri(base + "/oauth2callback")
        config = fake_google.client_config(redirect_uris=[base + "/oauth2callback"])
        database = tmp_path / "example.sqlite3"
        access_log = tmp_path / f"access-{port}.log"
        environment = {
            "SECRET_KEY": "integration-test-secret",
            "GOOGLE_CLIENT_CONFIG": json.dumps(config),
            "GOOGLE_FLOW_DISCOVERY_URL": fake_google.discovery_url,
            "GOOGLE_FLOW_CA_BUNDLE": fake_google.ca_cert,  # the CA alone: cheap per connection
            "REDIS_URL": redis_server.url,
            "EXAMPLE_DATABASE": str(database),
            **env,
        }
        server = Gunicorn(
            EXAMPLE_APP,
            environment,
            workers=workers,
            port=port,
            log_file=tmp_path / "gunicorn.log",
            extra_args=[
                "--access-logfile",
                str(access_log),
                "--access-logformat",
                ACCESS_LOG_FORMAT,
            ],
        )
        started.append(server)
        server.database = database  # type: ignore[attr-defined]
        server.access_log = access_log  # type: ignore[attr-defined]
        return server.start(ready_path="/")

    try:
        yield start
    finally:
        for server in started:
            server.stop()
