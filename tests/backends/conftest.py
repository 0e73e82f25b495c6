"""Fixtures: each backend the pending-flow stores support, ready for one test."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_google_flow.testing import FakeGoogle
from tests.conftest import require

from . import servers


def _require_package(module: str, package: str) -> None:
    require(
        importlib.util.find_spec(module) is not None,
        f"{package} is not installed",
        "pip install -e '.[test]'",
    )


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """The fake Google over real HTTP (a thread of this process), auto-approving."""
    fake = FakeGoogle(interactive=False)
    with fake.serve():
        yield fake


@pytest.fixture(params=servers.BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend with an atomic pending-flow store, in turn.

    Redis also has a load test with the example app (tests/integration/);
    it runs here too, so the figures of every backend come from one app and
    one driver.
    """
    return request.param


@pytest.fixture
def memcached_server() -> Iterator[servers.MemcachedServer]:
    """A private memcached, stopped by PID afterwards."""
    require(
        servers.memcached_installed(), "memcached is not installed", "apt-get install memcached"
    )
    _require_package("pymemcache", "pymemcache")
    with servers.MemcachedServer() as server:
        yield server


@pytest.fixture
def postgres_cluster() -> Iterator[servers.PostgresCluster]:
    """A private PostgreSQL cluster (a test may stop and restart it), removed afterwards."""
    require(
        servers.postgres_cluster_possible(),
        "PostgreSQL 15 binaries or the postgres user are missing",
        "apt-get install postgresql-15",
    )
    _require_package("psycopg", "psycopg")
    cluster = servers.PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.remove()


def sql_url(kind: str, tmp_path: Path) -> str:
    """The SQLAlchemy URL of this suite's database on *kind* (created if missing)."""
    _require_package("sqlalchemy", "SQLAlchemy")
    _require_package("flask_sqlalchemy", "Flask-SQLAlchemy")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
    _require_package("psycopg" if kind == "postgresql" else "pymysql", kind + " driver")
    import sqlalchemy.exc

    try:
        return servers.ensure_database(kind)
    except sqlalchemy.exc.OperationalError:
        where = "127.0.0.1:5432" if kind == "postgresql" else "127.0.0.1:3306"
        require(False, f"{kind} is not running at {where}", f"start the {kind} server")
        raise  # pragma: no cover - require() skipped or failed


@pytest.fixture
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL (or address) of the backend named by the test's ``backend`` parameter."""
    kind = request.getfixturevalue("backend")
    if kind == "files":
        return ""
    if kind == "redis":
        require(
            shutil.which("redis-server") is not None,
            "redis-server is not installed",
            "apt-get install redis-server",
        )
        return request.getfixturevalue("redis_server").url
    if kind == "memcached":
        return request.getfixturevalue("memcached_server").address
    return sql_url(kind, tmp_path)
