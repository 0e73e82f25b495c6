"""guard_session_backend: a session backend that fails gives 503 pages, never 500."""

from __future__ import annotations

import socket

import pytest
from flask import Flask, session
from flask_session import Session
from flask_session.redis import RedisSessionInterface

from flask_google_flow.ext.resilience import (
    UnavailableSession,
    fail_fast_redis,
    guard_session_backend,
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


def test_guard_keeps_the_class_and_is_idempotent(app: Flask) -> None:
    interface = guard_session_backend(app)
    assert guard_session_backend(app) is interface
    assert isinstance(app.session_interface, RedisSessionInterface)
    assert type(app.session_interface).__mro__.count(RedisSessionInterface) == 1


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
    assert BackendDown not in interface._guard_errors
    assert guard_session_backend(app, (BackendDown,)) is interface
    assert BackendDown in interface._guard_errors
    guard_session_backend(app, (BackendDown,))
    assert interface._guard_errors.count(BackendDown) == 1
