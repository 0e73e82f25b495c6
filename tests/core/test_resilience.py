"""guard_session_backend: a session backend that fails gives 503 pages, never 500."""

from __future__ import annotations

import socket

import pytest
from flask import Flask, session
from flask_session import Session
from flask_session.redis import RedisSessionInterface

from flask_google_flow.ext.resilience import (
    GuardedSessionInterface,
    UnavailableSession,
    fail_fast_redis,
    guard_session_backend,
    unwrap_session_interface,
)


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="k",
        SESSION_TYPE="redis",
        SESSION_REDIS=fail_fast_redis(f"redis://127.0.0.1:{_dead_port()}/0", connect_timeout=0.5),
    )
    Session(app)

    @app.get("/read")
    def read():
        return str(session.get("x"))

    @app.get("/write")
    def write():
        session["x"] = 1
        return "written"

    @app.get("/plain")
    def plain():
        return "no session"

    return app


def test_unguarded_backend_failure_is_a_500(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("session", "abc")
    response = client.get("/read")
    assert response.status_code == 500


def test_open_failure_is_a_503_page(app: Flask) -> None:
    guard_session_backend(app)
    client = app.test_client()
    client.set_cookie("session", "abc")
    response = client.get("/read")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_without_the_session_still_work(app: Flask) -> None:
    guard_session_backend(app)
    client = app.test_client()
    client.set_cookie("session", "abc")
    response = client.get("/plain")
    assert response.status_code == 200


def test_save_failure_replaces_the_response(app: Flask) -> None:
    guard_session_backend(app)
    # No cookie: open_session makes a new session without touching Redis; the save fails.
    response = app.test_client().get("/write")
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers
    assert "written" not in response.get_data(as_text=True)


def test_guard_wraps_by_composition_and_is_idempotent(app: Flask) -> None:
    original = app.session_interface
    interface = guard_session_backend(app)
    assert guard_session_backend(app) is interface
    assert app.session_interface is interface
    assert isinstance(interface, GuardedSessionInterface)
    assert interface.wrapped is original
    assert type(original) is RedisSessionInterface  # the app's object is left as it was
    assert unwrap_session_interface(app.session_interface) is original
    assert interface.client is original.client  # attributes read through


def test_guard_delegates_the_cookie_settings(app: Flask) -> None:
    app.config.update(SESSION_COOKIE_NAME="sid", SESSION_COOKIE_SAMESITE="Strict")
    interface = guard_session_backend(app)
    assert interface.get_cookie_name(app) == "sid"
    assert interface.get_cookie_samesite(app) == "Strict"
    assert interface.get_cookie_httponly(app) is True


def test_unavailable_session_raises_on_use() -> None:
    from flask_google_flow.ext.errors import SessionUnavailable

    with pytest.raises(SessionUnavailable):
        UnavailableSession().get("x")


def test_guarding_again_adds_extra_errors(tmp_path):
    """An app adding its backend's errors after init_app has guarded the interface."""
    from flask import Flask

    from flask_google_flow.ext.resilience import guard_session_backend

    class BackendDown(Exception):
        pass

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SESSION_TYPE="cachelib", SECRET_KEY="k")
    from cachelib import SimpleCache
    from flask_session import Session

    app.config["SESSION_CACHELIB"] = SimpleCache()
    Session(app)
    interface = guard_session_backend(app)
    assert not interface.is_outage(BackendDown())
    assert guard_session_backend(app, (BackendDown,)) is interface
    assert interface.is_outage(BackendDown())
    guard_session_backend(app, (BackendDown,))
    assert interface.extra_errors.count(BackendDown) == 1


# -- which errors are outages --------------------------------------------------------


def test_outage_errors_are_recognised_per_client_library() -> None:
    import pymemcache.exceptions
    import redis.exceptions
    import sqlalchemy.exc

    from flask_google_flow.ext.resilience import SessionWriteError, is_backend_outage

    outages = [
        OSError("disk full"),
        SessionWriteError("lost write"),
        redis.exceptions.ConnectionError(),
        redis.exceptions.TimeoutError(),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("refused")),
        sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
        pymemcache.exceptions.MemcacheUnexpectedCloseError(),
        pymemcache.exceptions.MemcacheServerError("out of memory"),
    ]
    for error in outages:
        assert is_backend_outage(error), error
    invalidated = sqlalchemy.exc.DBAPIError(
        "SELECT 1", {}, Exception("gone"), connection_invalidated=True
    )
    assert is_backend_outage(invalidated)


def test_bugs_are_not_outages() -> None:
    import sqlalchemy.exc

    from flask_google_flow.ext.resilience import is_backend_outage

    assert not is_backend_outage(ValueError("a bug"))
    assert not is_backend_outage(KeyError("a bug"))
    integrity = sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate"))
    assert not is_backend_outage(integrity)


def test_a_bug_in_the_backend_still_raises(tmp_path) -> None:
    """Only outages become 503: a programming error stays visible as a 500."""
    from cachelib import SimpleCache

    class Broken(SimpleCache):
        def set(self, *args, **kwargs):
            raise TypeError("a bug")

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k", SESSION_TYPE="cachelib", SESSION_CACHELIB=Broken())
    Session(app)
    guard_session_backend(app)

    @app.get("/write")
    def write():
        session["x"] = 1
        return "written"

    assert app.test_client().get("/write").status_code == 500


# -- the embedded filesystem store: failed writes are never silent -----------------


def _folder_gone(path) -> None:
    """Replace the cache folder by a file: every write fails, also for root."""
    import shutil

    shutil.rmtree(path)
    path.write_text("not a folder")


def test_cachelib_filesystem_cache_loses_writes_silently(tmp_path) -> None:
    """The reason for CheckedFileSystemCache: cachelib's set answers False, nothing raises."""
    from cachelib import FileSystemCache

    cache = FileSystemCache(str(tmp_path / "c"))
    _folder_gone(tmp_path / "c")
    assert cache.set("k", "v") is False


def test_checked_filesystem_cache_raises_on_a_failed_write(tmp_path) -> None:
    from flask_google_flow.ext.resilience import CheckedFileSystemCache, SessionWriteError

    cache = CheckedFileSystemCache(str(tmp_path / "c"))
    assert cache.set("k", "v") is True
    assert cache.get("k") == "v"
    _folder_gone(tmp_path / "c")
    with pytest.raises(SessionWriteError):
        cache.set("k", "w")


def test_lost_session_write_answers_503_not_200(tmp_path) -> None:
    from flask_google_flow.ext.resilience import CheckedFileSystemCache

    app = Flask(__name__, instance_path=str(tmp_path))
    cache = CheckedFileSystemCache(str(tmp_path / "c"))
    app.config.update(SECRET_KEY="k", SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    Session(app)
    guard_session_backend(app)

    @app.get("/write")
    def write():
        session["x"] = 1
        return "written"

    client = app.test_client()
    assert client.get("/write").status_code == 200
    _folder_gone(tmp_path / "c")
    response = client.get("/write")
    assert response.status_code == 503
    assert "written" not in response.get_data(as_text=True)


# -- per-request hooks ------------------------------------------------------------------


def test_save_failure_callbacks_run_only_when_the_save_fails(app: Flask) -> None:
    from flask_google_flow.ext.resilience import on_session_save_failure

    guard_session_backend(app)
    seen = []

    @app.get("/hooked")
    def hooked():
        on_session_save_failure(lambda exc: seen.append(type(exc).__name__))
        session["x"] = 1
        return "ok"

    @app.get("/hooked-plain")
    def hooked_plain():
        on_session_save_failure(seen.append)
        return "ok"

    assert app.test_client().get("/hooked").status_code == 503
    assert seen == ["ConnectionError"]
    assert app.test_client().get("/hooked-plain").status_code == 200  # nothing to save
    assert seen == ["ConnectionError"]


def test_discarded_session_changes_are_not_saved(tmp_path) -> None:
    from cachelib import SimpleCache

    from flask_google_flow.ext.resilience import discard_session_changes

    app = Flask(__name__, instance_path=str(tmp_path))
    cache = SimpleCache()
    app.config.update(SECRET_KEY="k", SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    Session(app)
    guard_session_backend(app)

    @app.get("/half")
    def half():
        session["signed_in"] = True
        discard_session_changes()
        return "failed half-way"

    @app.get("/whole")
    def whole():
        session["signed_in"] = True
        return "done"

    assert "Set-Cookie" in app.test_client().get("/whole").headers  # the control
    response = app.test_client().get("/half")
    assert "Set-Cookie" not in response.headers


# -- the backend cannot be set up at start-up ------------------------------------------


def test_guard_builds_the_interface_once_the_backend_is_back(tmp_path) -> None:
    from flask_google_flow.ext.errors import SessionUnavailable

    attempts = []
    real = {}

    def build():
        attempts.append(1)
        if not real:
            raise OSError("backend down")
        return real["interface"]

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k")
    guard = guard_session_backend(app, build=build)
    guard.retry_after = 0
    assert guard.wrapped is None

    @app.get("/plain")
    def plain():
        return "no session"

    @app.get("/read")
    def read():
        return str(session.get("x"))

    client = app.test_client()
    assert client.get("/plain").status_code == 200
    assert client.get("/read").status_code == 503
    with pytest.raises(SessionUnavailable):
        guard.regenerate(UnavailableSession())

    from cachelib import SimpleCache
    from flask_session.cachelib import CacheLibSessionInterface

    real["interface"] = CacheLibSessionInterface(app, client=SimpleCache())
    assert client.get("/read").status_code == 200
    assert guard.wrapped is real["interface"]
    count = len(attempts)
    client.get("/read")
    assert len(attempts) == count  # built once, then used


def test_guard_retries_the_build_at_most_once_per_interval(tmp_path) -> None:
    now = [0.0]
    attempts = []

    def build():
        attempts.append(now[0])
        raise OSError("down")

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k")
    guard = GuardedSessionInterface(None, build=build, retry_after=1.0, clock=lambda: now[0])
    app.session_interface = guard

    @app.get("/read")
    def read():
        return str(session.get("x"))

    client = app.test_client()
    for _ in range(5):
        assert client.get("/read").status_code == 503
    assert attempts == [0.0]
    now[0] = 1.5
    assert client.get("/read").status_code == 503
    assert attempts == [0.0, 1.5]


def test_database_errors_count_by_sqlstate() -> None:
    import sqlalchemy.exc

    from flask_google_flow.ext.resilience import is_backend_outage

    class Original(Exception):
        def __init__(self, sqlstate):
            super().__init__("db error")
            self.sqlstate = sqlstate

    def error(kind, sqlstate):
        return kind("SELECT 1", {}, Original(sqlstate))

    assert is_backend_outage(error(sqlalchemy.exc.InternalError, "25P02"))  # aborted txn
    assert is_backend_outage(error(sqlalchemy.exc.DatabaseError, "57P01"))  # admin shutdown
    assert is_backend_outage(error(sqlalchemy.exc.DatabaseError, "53300"))  # too many clients
    assert not is_backend_outage(error(sqlalchemy.exc.ProgrammingError, "42P01"))  # no table
    assert not is_backend_outage(error(sqlalchemy.exc.IntegrityError, "23505"))  # duplicate


def test_fail_fast_memcached_fails_at_once_on_a_dead_server() -> None:
    from flask_google_flow.ext.resilience import fail_fast_memcached, is_backend_outage

    client = fail_fast_memcached(f"127.0.0.1:{_dead_port()}", timeout=0.5, connect_timeout=0.5)
    with pytest.raises(Exception) as info:
        client.get("session:x")
    assert is_backend_outage(info.value)
