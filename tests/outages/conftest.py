"""Fixtures for the outage, session-setup and rotation tests: an app on an in-process fake Google.

``make_app(config=..., **options)`` builds the app with ``build_app`` and adds
``/`` (who is signed in, from the session), ``/plain`` (never touches the
session) and ``/credentials`` (whether credentials are available).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.backends.servers import (
    MemcachedServer,
    PostgresCluster,
    memcached_installed,
    postgres_cluster_possible,
)
from tests.conftest import require
from tests.sign_in_helpers import CALLBACK, add_home_page, build_app


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    """What the app's store callback received, in order."""
    return []


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *,
        extension: GoogleFlow | None = None,
        config: dict | None = None,
        stored: list | None = None,
        **options: Any,
    ) -> Flask:
        app, google_flow = build_app(
            fake,
            clock,
            tmp_path / "instance",
            stored=stored,
            extension=extension,
            config=config,
            **options,
        )

        add_home_page(app)

        @app.route("/plain")
        def plain():
            return "no session here"

        @app.route("/credentials")
        def credentials():
            return "yes" if google_flow.credentials is not None else "no"

        app.extensions["test_google_flow"] = google_flow
        return app

    return factory


# -- session backends on private servers (integration tests) ----------------------


@dataclass
class Backend:
    """A backend under test: how to configure an app for it, and its server."""

    name: str
    configure: Callable[[Flask], None]
    stop: Callable[[], None]
    start: Callable[[], Any]
    keeps_data: bool
    #: A context manager in which the server accepts connections but answers nothing.
    hang: Callable[[], Any]


@contextlib.contextmanager
def _paused(process) -> Iterator[None]:
    """SIGSTOP the server process by its PID (the kernel still accepts connections).

    The signal is delivered asynchronously: wait until every thread of the
    process is stopped (``T`` in ``/proc``), so no request is still served.
    """
    os.kill(process.pid, signal.SIGSTOP)
    for _ in range(200):
        tasks = Path(f"/proc/{process.pid}/task").iterdir()
        states = {(task / "stat").read_text().rsplit(")", 1)[1].split()[0] for task in tasks}
        if states <= {"T", "t"}:
            break
        time.sleep(0.01)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


@pytest.fixture(params=["redis", "postgresql", "memcached"])
def backend(request, tmp_path) -> Iterator[Backend]:
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        from flask_google_flow.ext.resilience import fail_fast_redis

        def configure(app: Flask) -> None:
            app.config.update(SESSION_TYPE="redis", SESSION_REDIS=fail_fast_redis(server.url))

        yield Backend(
            "redis",
            configure,
            server.stop,
            server.start,
            keeps_data=False,
            hang=lambda: _paused(server.process),
        )
        return
    if request.param == "memcached":
        require(memcached_installed(), "memcached is not installed", "apt-get install memcached")
        server = MemcachedServer().start()
        from flask_google_flow.ext.resilience import fail_fast_memcached

        def configure(app: Flask) -> None:
            app.config.update(
                SESSION_TYPE="memcached", SESSION_MEMCACHED=fail_fast_memcached(server.address)
            )

        try:
            yield Backend(
                "memcached",
                configure,
                server.stop,
                server.start,
                keeps_data=False,
                hang=lambda: _paused(server.process),
            )
        finally:
            server.stop()
        return
    require(
        postgres_cluster_possible(),
        "PostgreSQL 15 binaries or the postgres user are missing",
        "apt-get install postgresql-15",
    )
    cluster = PostgresCluster().start()

    def configure(app: Flask) -> None:
        from flask_sqlalchemy import SQLAlchemy

        app.config.update(
            SQLALCHEMY_DATABASE_URI=cluster.url,
            SQLALCHEMY_ENGINE_OPTIONS={
                "pool_pre_ping": True,
                "pool_timeout": 1,
                "connect_args": {
                    "connect_timeout": 1,
                    "options": "-c statement_timeout=1000",
                },
            },
            SESSION_TYPE="sqlalchemy",
        )
        db = SQLAlchemy()
        db.init_app(app)
        app.config["SESSION_SQLALCHEMY"] = db

    @contextlib.contextmanager
    def locked() -> Iterator[None]:
        """Another client holds the session table locked: every query waits for it."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(cluster.url)
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
        engine.dispose()

    try:
        yield Backend(
            "postgresql",
            configure,
            cluster.stop,
            cluster.start,
            keeps_data=True,
            hang=locked,
        )
    finally:
        cluster.remove()


def backend_app(backend: Backend, fake, clock, tmp_path) -> Flask:
    """An app on *backend* with ``/`` and ``/plain`` (as ``make_app``'s)."""
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="outage-test", GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]))
    backend.configure(app)
    GoogleFlow(clock=clock).init_app(app)

    add_home_page(app)

    @app.route("/plain")
    def plain():
        return "no session here"

    return app
