"""Session backend down; the app's store/load/delete callbacks raising."""

from __future__ import annotations

import logging
import socket

import pytest

from flask_google_flow import GoogleFlow, signals
from flask_google_flow.ext.resilience import fail_fast_redis
from tests.sign_in_helpers import callback_path, sign_in, start

from .conftest import post


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_redis_app(make_app):
    url = f"redis://127.0.0.1:{_dead_port()}/0"
    app = make_app(
        config={
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": fail_fast_redis(url, connect_timeout=0.3),
        }
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.mark.parametrize(
    ("method", "path", "cookie"),
    [
        ("get", "/authorize", False),
        ("get", "/authorize", True),
        ("get", "/oauth2callback?state=abc&code=x", True),
        ("get", "/oauth2callback?state=abc&code=x", False),
        ("post", "/revoke", True),
        ("post", "/logout", True),
    ],
)
def test_session_backend_down_is_503_on_every_route(dead_redis_app, method, path, cookie):
    client = dead_redis_app.test_client()
    if cookie:
        client.set_cookie("session", "some-session-id")
    response = getattr(client, method)(path, headers={"Origin": "http://localhost"})
    assert response.status_code == 503, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def raising_app(make_app, clock):
    """An app whose load/delete callbacks can be told to raise."""
    kept: dict = {}
    calls: list = []
    broken: set = set()

    def store(credentials, id_info):
        calls.append("store")
        kept[id_info["sub"]] = credentials

    def load(sub):
        calls.append("load")
        if "load" in broken:
            raise RuntimeError("database is down")
        return kept.get(sub)

    def delete(sub):
        calls.append("delete")
        if "delete" in broken:
            raise RuntimeError("database is down")
        kept.pop(sub, None)

    google_flow = GoogleFlow(clock=clock, store=store, load=load, delete=delete)
    app = make_app(extension=google_flow)
    app.extensions["audit"] = {"kept": kept, "calls": calls, "broken": broken}
    return app


def test_delete_raising_during_revoke_still_revokes_and_signs_out(raising_app, fake, caplog):
    client = raising_app.test_client()
    audit = raising_app.extensions["audit"]
    assert sign_in(client, fake).status_code == 302
    [credentials] = audit["kept"].values()
    audit["broken"].add("delete")
    caplog.set_level(logging.ERROR, logger="flask_google_flow")
    response = post(client, "/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?google_flow_revoke=revoked"
    assert "delete" in audit["calls"]
    assert not fake.access_token_is_valid(credentials.token)
    assert client.get("/me").get_json()["user"] is None
    assert "delete callback raised" in caplog.text


def test_load_raising_during_revoke_still_deletes_and_signs_out(raising_app, fake):
    client = raising_app.test_client()
    audit = raising_app.extensions["audit"]
    assert sign_in(client, fake).status_code == 302
    audit["broken"].add("load")
    response = post(client, "/revoke")
    assert response.status_code == 302
    assert audit["kept"] == {}
    assert client.get("/me").status_code == 200
    assert client.get("/me").get_json()["user"] is None


def test_load_raising_during_revoke_reports_failed_not_none(raising_app, fake):
    client = raising_app.test_client()
    audit = raising_app.extensions["audit"]
    assert sign_in(client, fake).status_code == 302
    audit["broken"].add("load")
    outcomes = []

    def receiver(sender, **kwargs):
        outcomes.append(kwargs["outcome"])

    with signals.credentials_revoked.connected_to(receiver):
        response = post(client, "/revoke")
    assert response.headers["Location"] == "/?google_flow_revoke=failed"
    assert outcomes == ["failed"]


def test_load_raising_during_a_later_sign_in_does_not_break_it(raising_app, fake, caplog):
    """The refresh-token carry-over calls load; if load raises, sign-in still completes."""
    client = raising_app.test_client()
    audit = raising_app.extensions["audit"]
    assert sign_in(client, fake).status_code == 302
    audit["calls"].clear()
    audit["broken"].add("load")
    caplog.set_level(logging.ERROR, logger="flask_google_flow")
    # second consent of the same account: Google returns no new refresh token
    response = sign_in(client, fake)
    assert response.status_code == 302
    assert audit["calls"][:2] == ["load", "store"]
    assert "load callback raised during sign-in" in caplog.text


def test_store_raising_sends_login_failed_and_keeps_the_pending_flow_consumed(make_app, fake):
    extension = GoogleFlow()

    @extension.store
    def save(credentials, id_info):
        raise RuntimeError("database is down")

    app = make_app(extension=extension)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    failures = []

    def on_failure(sender, error, **extra):
        failures.append(error.error_code)

    location = start(client)
    callback = callback_path(fake.approve(location))
    with signals.login_failed.connected_to(on_failure, app):
        assert client.get(callback).status_code == 500
    assert failures == ["store_failed"]
    assert client.get(callback).status_code == 400  # single use, even after a 500
