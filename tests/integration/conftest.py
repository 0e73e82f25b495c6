"""Fixtures: a private redis-server, the fake Google as a real server, the app under gunicorn.

The app under gunicorn is a parameter: ``GOOGLE_FLOW_IT_APP`` is ``tiny``
(the default: the stand-in in :mod:`tests.integration.apps`), ``example``
(``example_app.create_app()``) or any gunicorn ``module:callable`` spec.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flask_google_flow.testing import FakeGoogle
from tests.conftest import require

from .harness import Gunicorn, RedisServer, free_port

TINY_APP = "tests.integration.apps:create_app()"
EXAMPLE_APP = "tests.integration.apps:example()"


def _default_app_spec() -> str:
    spec = os.environ.get("GOOGLE_FLOW_IT_APP", "tiny")
    return {"tiny": TINY_APP, "example": EXAMPLE_APP}.get(spec, spec)


@pytest.fixture(scope="session")
def app_spec() -> str:
    return _default_app_spec()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    require(
        shutil.which("redis-server") is not None,
        "redis-server is not installed",
        "apt-get install redis-server",
    )
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """The fake Google over real HTTP (a thread of this process), auto-approving."""
    fake = FakeGoogle(interactive=False)
    with fake.serve():
        yield fake


def audit_rows(database: Path) -> list[tuple[str, str, int]]:
    """``(sub, email, pid)`` of every ``store`` call the app recorded."""
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute("SELECT sub, email, pid FROM audit").fetchall()


@pytest.fixture
def start_app(
    app_spec: str, redis_server: RedisServer, fake_google: FakeGoogle, tmp_path: Path
) -> Iterator[Callable[..., Gunicorn]]:
    """``start_app(**env)``: the app under gunicorn (4 workers) on Redis and the fake."""
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
        database = tmp_path / "audit.sqlite3"
        environment = {
            "SECRET_KEY": "integration-test-secret",
            "GOOGLE_CLIENT_CONFIG": json.dumps(config),
            "GOOGLE_FLOW_DISCOVERY_URL": fake_google.discovery_url,
            "REDIS_URL": redis_server.url,
            "EXAMPLE_DATABASE": str(database),
            **env,
        }
        server = Gunicorn(
            app_spec, environment, workers=workers, port=port, log_file=tmp_path / "gunicorn.log"
        )
        started.append(server)
        server.database = database  # type: ignore[attr-defined]
        return server.start(ready_path="/healthz" if app_spec == TINY_APP else "/")

    try:
        yield start
    finally:
        for server in started:
            server.stop()
