"""No half-done sign-in without the app knowing (the finishing order and ``store_ran``).

The order is: pending flow consumed → code exchanged → ``store`` → session
written. When the session cannot be written after ``store`` ran, the browser
gets a 503 (never the redirect of a signed-in user) and ``login_failed`` is
sent once with ``store_ran=True`` and the verified ``id_info``.
"""

from __future__ import annotations

import pytest
from cachelib import SimpleCache

from flask_google_flow.ext import signals
from tests.sign_in_helpers import callback_path, start


class FlakyCache(SimpleCache):
    """A session cache whose writes or deletes can be made to fail like a full disk."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_set = False
        self.fail_delete = False

    def set(self, key, value, timeout=None):
        if self.fail_set and key.startswith("session:"):
            raise OSError(28, "No space left on device")
        return super().set(key, value, timeout)

    def delete(self, key):
        if self.fail_delete and key.startswith("session:"):
            raise OSError(28, "No space left on device")
        return super().delete(key)


@pytest.fixture
def cache() -> FlakyCache:
    return FlakyCache()


@pytest.fixture
def app(make_app, cache, stored):
    return make_app(config={"SESSION_TYPE": "cachelib", "SESSION_CACHELIB": cache}, stored=stored)


@pytest.fixture
def events(app):
    seen: dict[str, list] = {"failed": [], "succeeded": []}

    def on_failure(sender, error, **extra):
        seen["failed"].append({"error": error.error_code, **extra})

    def on_success(sender, **extra):
        seen["succeeded"].append(extra["id_info"].get("email"))

    with (
        signals.login_failed.connected_to(on_failure, app),
        signals.login_succeeded.connected_to(on_success, app),
    ):
        yield seen


def test_session_not_saved_after_store_is_a_503_with_store_ran(app, fake, cache, stored, events):
    client = app.test_client()
    callback = callback_path(fake.approve(start(client)))
    cache.fail_set = True
    response = client.get(callback)
    assert response.status_code == 503
    assert "Location" not in response.headers  # not redirected as if signed in
    assert "Set-Cookie" not in response.headers
    assert len(stored) == 1  # store ran
    [failure] = events["failed"]
    assert failure["store_ran"] is True
    assert failure["error"] == "session_unavailable"
    assert failure["reason"] == "session_unavailable"
    assert failure["id_info"]["sub"] == stored[0][1]["sub"]
    assert failure["id_info"]["email"] == "tester@example.com"
    assert "Traceback" not in response.get_data(as_text=True)
    cache.fail_set = False
    assert client.get("/").get_data(as_text=True) == "home anonymous"


def test_rotation_failure_after_store_is_a_503_reported_once(app, fake, cache, stored, events):
    client = app.test_client()
    callback = callback_path(fake.approve(start(client)))
    old_cookie = client.get_cookie("session").value
    cache.fail_delete = True  # regenerate() deletes the old session first
    response = client.get(callback)
    assert response.status_code == 503
    assert "Location" not in response.headers
    assert len(stored) == 1
    assert [f["store_ran"] for f in events["failed"]] == [True]
    assert events["failed"][0]["id_info"]["email"] == "tester@example.com"
    # The signed-in session was not saved under the old (not rotated) id.
    cache.fail_delete = False
    client.set_cookie("session", old_cookie)
    assert client.get("/").get_data(as_text=True) == "home anonymous"


def test_failure_before_store_has_store_ran_false(app, fake, stored, events):
    client = app.test_client()
    callback = callback_path(fake.approve(start(client)))
    fake.fail_token("server_error")
    response = client.get(callback)
    assert response.status_code == 502
    assert stored == []
    [failure] = events["failed"]
    assert failure["store_ran"] is False
    assert failure["id_info"] == {}


def test_a_saved_sign_in_sends_no_failure(app, fake, stored, events):
    client = app.test_client()
    response = client.get(callback_path(fake.approve(start(client))))
    assert response.status_code == 302
    assert events["failed"] == []
    assert events["succeeded"] == ["tester@example.com"]


def test_the_documented_undo_receiver_runs_for_a_half_done_sign_in(app, fake, cache, stored):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "undo_half_done.py"
    spec = importlib.util.spec_from_file_location("undo_half_done", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    example.watch_half_done_sign_ins(app)
    client = app.test_client()
    callback = callback_path(fake.approve(start(client)))
    cache.fail_set = True
    assert client.get(callback).status_code == 503
    assert example.forgotten == [stored[0][1]["sub"]]
