"""The backends the pending-flow stores are tested against, and how a test app is put on one.

Shared servers (already running; each test uses its own database and tables):
PostgreSQL 127.0.0.1:5432 (user ``postgres``), MariaDB 127.0.0.1:3306
(``root``). Private servers (started here on a free loopback port, stopped by
PID): memcached, redis-server. Files and SQLite live in the test's folder.

:func:`configure` puts a Flask app on a backend *before* ``GoogleFlow.init_app``;
the gunicorn app (:mod:`tests.backends.load_app`) calls it from environment
variables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from tests.integration.harness import LocalServer, _stop_process, free_port, wait_for_port

DATABASE = "gf_stores"
POSTGRES_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
MARIADB_URL = f"mysql+pymysql://root@127.0.0.1:3306/{DATABASE}"
SQL_KINDS = ("postgresql", "mariadb", "sqlite")
#: Every backend with an atomic pending-flow store, as named in the tests.
BACKENDS = ("files", "redis", "memcached", *SQL_KINDS)


def ensure_database(kind: str) -> str:
    """Create this suite's database on the shared server if missing; its SQLAlchemy URL.

    :raises sqlalchemy.exc.OperationalError: the server is not running.
    """
    import sqlalchemy as sa

    if kind == "postgresql":
        admin = sa.create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
        )
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
            ).first()
            if not exists:
                connection.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        return POSTGRES_URL
    admin = sa.create_engine(
        "mysql+pymysql://root@127.0.0.1:3306/", connect_args={"connect_timeout": 3}
    )
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS {DATABASE}"))
    admin.dispose()
    return MARIADB_URL


def unique_name(prefix: str = "gf") -> str:
    """A table name no other test (or helper) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def drop_tables(url: str, *names: str) -> None:
    """Drop this test's tables (never anything else)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for name in names:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    engine.dispose()


class MemcachedServer(LocalServer):
    """A private ``memcached`` on a free loopback port (TCP only)."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            "memcached",
            *("-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"),
            *("-c", "1024", "-t", "2", "-u", "root"),
        ]


class ThreadedServer:
    """A threaded werkzeug server on a free loopback port, in a thread of this process.

    The port is bound first (:attr:`url`), so the app can be configured with
    its redirect URI before :meth:`serve` gives it the app.
    """

    def __init__(self) -> None:
        from werkzeug.serving import make_server

        self._app: Any = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ: Any, start_response: Any) -> Any:
        return self._app(environ, start_response)

    def serve(self, app: Any) -> None:
        """Start answering requests with *app*."""
        self._app = app
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self._thread.start()

    def __enter__(self) -> ThreadedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(10)
        self.server.server_close()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    """A private PostgreSQL cluster (``initdb`` + ``postgres``) on a free loopback port.

    Run as the ``postgres`` system user (``initdb`` refuses root), trust
    authentication, no fsync. :meth:`stop` (fast shutdown) and :meth:`start`
    again keep the port and the data, like a database restart.
    """

    _INITDB = ("-A", "trust", "-U", "postgres", "--no-sync")

    def __init__(self) -> None:
        import pwd

        self.port = free_port()
        self.user = pwd.getpwnam("postgres")
        self.directory = Path(tempfile.mkdtemp(prefix="gf-stores-pg-"))
        os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self.data = self.directory / "data"
        self.process: subprocess.Popen | None = None
        self._as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self._as_postgres, str(PG_BIN / "initdb"), "-D", str(self.data), *self._INITDB],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresCluster:
        self.process = subprocess.Popen(
            [
                *self._as_postgres,
                str(PG_BIN / "postgres"),
                *("-D", str(self.data), "-p", str(self.port), "-k", str(self.directory)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected), SIGKILL if it lingers."""
        process, self.process = self.process, None
        _stop_process(process, sig=signal.SIGINT, timeout=15)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_cluster_possible() -> bool:
    """Whether a private cluster can be made here (the binaries and the ``postgres`` user)."""
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None


def memcached_installed() -> bool:
    return shutil.which("memcached") is not None


def memcached_client(address: str) -> Any:
    """A thread-safe pymemcache client that fails fast and waits for every write's reply."""
    from pymemcache.client.base import PooledClient

    host, port = address.rsplit(":", 1)
    return PooledClient(
        (host, int(port)),
        connect_timeout=2,
        timeout=5,
        max_pool_size=64,
        default_noreply=False,
    )


def configure(app: Flask, kind: str, *, url: str = "", folder: Path | None = None) -> None:
    """Put *app*'s sessions on backend *kind* (call before ``GoogleFlow.init_app``).

    :param url: the Redis URL, memcached ``host:port`` or SQLAlchemy URL.
    :param folder: where files (and the SQLite database) go.
    """
    if kind == "files":
        assert folder is not None
        app.config["GOOGLE_FLOW_SESSION_DIR"] = str(folder / "sessions")
        app.config["GOOGLE_FLOW_PENDING_DIR"] = str(folder / "pending")
    elif kind == "redis":
        from flask_google_flow.ext.resilience import fail_fast_redis

        app.config.update(SESSION_TYPE="redis", SESSION_REDIS=fail_fast_redis(url))
    elif kind == "memcached":
        app.config.update(SESSION_TYPE="memcached", SESSION_MEMCACHED=memcached_client(url))
    elif kind in SQL_KINDS:
        from flask_sqlalchemy import SQLAlchemy

        options: dict[str, Any] = {"pool_size": 20, "max_overflow": 20, "pool_timeout": 10}
        if kind == "sqlite":
            options = {"connect_args": {"timeout": 30}}
        app.config.update(
            SQLALCHEMY_DATABASE_URI=url,
            SQLALCHEMY_ENGINE_OPTIONS=options,
        )
        db = SQLAlchemy()
        db.init_app(app)
        app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
    else:
        raise ValueError(f"unknown backend {kind!r}")


def dispose_engines(app: Any) -> None:
    """Close the pooled database connections of *app*'s Flask-SQLAlchemy object, if any.

    The shared PostgreSQL and MariaDB servers allow about a hundred connections;
    apps of finished tests must not keep theirs open until garbage collection.
    """
    db = app.extensions.get("sqlalchemy")
    if db is not None:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()
