"""Which pending-flow store an app gets, from its Flask-Session interface, and where."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_session.base import ServerSideSessionInterface

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.errors import SessionUnavailable
from flask_google_flow.ext.pending import (
    FilePendingFlowStore,
    MemcachedPendingFlowStore,
    SessionPendingFlowStore,
    SqlPendingFlowStore,
    store_for_session_interface,
)
from flask_google_flow.testing import FakeGoogle

sqlalchemy = pytest.importorskip("sqlalchemy", reason="SQLAlchemy is in the test extra")
flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy", reason="in the test extra")
pymemcache = pytest.importorskip("pymemcache", reason="pymemcache is in the test extra")


@pytest.fixture
def fake_google() -> FakeGoogle:
    return FakeGoogle()


def _app(fake_google: FakeGoogle, tmp_path: Path, **config: Any) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake_google.client_config(), **config)
    return app


def _pending_store(app: Flask) -> Any:
    return GoogleFlow.state(app).pending.store


def test_embedded_default_gets_the_file_store_in_the_instance_folder(fake_google, tmp_path):
    app = _app(fake_google, tmp_path)
    GoogleFlow(app)
    store = _pending_store(app)
    assert isinstance(store, FilePendingFlowStore)
    assert store.directory == str(tmp_path / "instance" / "google_flow_pending")
    # Its own folder, not the session's.
    assert (tmp_path / "instance" / "google_flow_sessions").is_dir()


def test_pending_dir_setting(fake_google, tmp_path):
    app = _app(fake_google, tmp_path, GOOGLE_FLOW_PENDING_DIR=str(tmp_path / "shared"))
    GoogleFlow(app)
    assert _pending_store(app).directory == str(tmp_path / "shared")


def test_pending_dir_beside_the_session_dir(fake_google, tmp_path):
    app = _app(fake_google, tmp_path, GOOGLE_FLOW_SESSION_DIR=str(tmp_path / "sessions"))
    GoogleFlow(app)
    assert _pending_store(app).directory == str(tmp_path / "sessions-pending")
    assert not (tmp_path / "instance").exists()


def test_unusable_pending_dir_fails_at_init_app_naming_the_setting(fake_google, tmp_path):
    (tmp_path / "a-file").write_text("")
    app = _app(fake_google, tmp_path, GOOGLE_FLOW_PENDING_DIR=str(tmp_path / "a-file" / "x"))
    with pytest.raises(ValueError, match="GOOGLE_FLOW_PENDING_DIR"):
        GoogleFlow(app)


def test_a_pending_dir_others_may_write_to_fails_at_init_app(fake_google, tmp_path):
    shared = tmp_path / "shared-parent" / "pending"
    shared.mkdir(parents=True)
    shared.chmod(0o777)
    app = _app(fake_google, tmp_path, GOOGLE_FLOW_PENDING_DIR=str(shared))
    with pytest.raises(ValueError, match=r"writable by other users.*GOOGLE_FLOW_PENDING_DIR"):
        GoogleFlow(app)


def _sql_app(fake_google, tmp_path, **config: Any) -> Flask:
    app = _app(
        fake_google,
        tmp_path,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'main.sqlite3'}",
        **config,
    )
    db = flask_sqlalchemy.SQLAlchemy()
    db.init_app(app)
    app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
    return app


def test_sqlalchemy_sessions_get_the_sql_store_on_their_engine(fake_google, tmp_path):
    app = _sql_app(fake_google, tmp_path)
    GoogleFlow(app)
    store = _pending_store(app)
    assert isinstance(store, SqlPendingFlowStore)
    with app.app_context():
        assert store.engine is app.config["SESSION_SQLALCHEMY"].engine
    # Its own table, created at init_app.
    assert "google_flow_pending" in sqlalchemy.inspect(store.engine).get_table_names()


@pytest.mark.filterwarnings(
    "ignore:'get_engine' is deprecated:DeprecationWarning"
)  # Flask-Session's
def test_sqlalchemy_sessions_on_a_bind_key(fake_google, tmp_path):
    app = _sql_app(
        fake_google,
        tmp_path,
        SQLALCHEMY_BINDS={"sessions": f"sqlite:///{tmp_path / 'sessions.sqlite3'}"},
        SESSION_SQLALCHEMY_BIND_KEY="sessions",
    )
    GoogleFlow(app)
    store = _pending_store(app)
    assert str(tmp_path / "sessions.sqlite3") in str(store.engine.url)


def test_sql_store_database_unreachable_then_back(tmp_path: Path):
    # The app may start while the database is down; the table comes on first use.
    folder = tmp_path / "not-yet"
    engine = sqlalchemy.create_engine(f"sqlite:///{folder / 'db.sqlite3'}")
    store = SqlPendingFlowStore(engine)
    with pytest.raises(SessionUnavailable):
        store.create_table()
    with pytest.raises(SessionUnavailable):
        store.put("k", "v", 60)
    folder.mkdir()
    store.put("k", "v", 60)
    assert store.pop("k") == "v"


def test_memcached_sessions_with_pymemcache_get_the_memcached_store(fake_google, tmp_path, caplog):
    from pymemcache.client.base import PooledClient

    # never contacted at init_app
    client = PooledClient(("127.0.0.1", 1), default_noreply=False)
    app = _app(fake_google, tmp_path, SESSION_TYPE="memcached", SESSION_MEMCACHED=client)
    with caplog.at_level(logging.WARNING, "flask_google_flow"):
        GoogleFlow(app)
    store = _pending_store(app)
    assert isinstance(store, MemcachedPendingFlowStore) and store.client is client
    assert not caplog.records


@pytest.mark.parametrize("kind", ["base", "pooled", "hash"])
def test_memcached_session_client_with_noreply_is_warned_about(fake_google, tmp_path, caplog, kind):
    from pymemcache.client.base import Client, PooledClient
    from pymemcache.client.hash import HashClient

    if kind == "hash":
        client = HashClient([("127.0.0.1", 1)])
    else:
        client = (Client if kind == "base" else PooledClient)(("127.0.0.1", 1))
    app = _app(fake_google, tmp_path, SESSION_TYPE="memcached", SESSION_MEMCACHED=client)
    with caplog.at_level(logging.WARNING, "flask_google_flow"):
        GoogleFlow(app)
    assert isinstance(_pending_store(app), MemcachedPendingFlowStore)
    assert any("default_noreply=False" in r.getMessage() for r in caplog.records)


class OtherMemcacheClient:
    def get(self, key):
        return None

    def set(self, key, value, timeout=0):
        return True

    def delete(self, key):
        return True


def test_other_memcached_clients_fall_back_with_a_warning(fake_google, tmp_path, caplog):
    app = _app(
        fake_google, tmp_path, SESSION_TYPE="memcached", SESSION_MEMCACHED=OtherMemcacheClient()
    )
    with caplog.at_level(logging.WARNING, "flask_google_flow"):
        GoogleFlow(app)
    assert isinstance(_pending_store(app), SessionPendingFlowStore)
    [record] = [r for r in caplog.records if "not race-safe" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "OtherMemcacheClient" in record.getMessage()


class UnknownInterface(ServerSideSessionInterface):
    """A server-side interface flask-google-flow has no store for (like MongoDB's)."""

    def __init__(self) -> None:
        pass

    def _retrieve_session_data(self, store_id):  # pragma: no cover - never called
        return None

    _delete_session = _upsert_session = _retrieve_session_data


def test_unknown_interfaces_fall_back_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, "flask_google_flow"):
        store = store_for_session_interface(UnknownInterface())
    assert isinstance(store, SessionPendingFlowStore)
    assert any(
        "UnknownInterface" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )


def test_the_sql_store_needs_the_app(fake_google, tmp_path):
    app = _sql_app(fake_google, tmp_path)
    from flask_session import Session

    Session(app)
    with pytest.raises(ValueError, match="app"):
        store_for_session_interface(app.session_interface)


def test_apps_without_the_redis_package_still_get_their_store(fake_google, tmp_path, monkeypatch):
    # flask_session.redis imports redis, which is optional: no ImportError at init_app.
    import sys

    for name in [
        m for m in sys.modules if m == "redis" or m.startswith(("redis.", "flask_session.redis"))
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ImportError
    app = _app(fake_google, tmp_path)
    GoogleFlow(app)
    assert isinstance(_pending_store(app), FilePendingFlowStore)
