"""``authorized_session()``: refresh by clock and after a 401, persisted, never lost."""

from __future__ import annotations

import threading

import pytest

from flask_google_flow import GoogleFlow, signals
from tests.sign_in_helpers import query_of, sign_in

from .conftest import me


@pytest.fixture
def recording_app(make_app, clock):
    """An app with a store callback that records each call (and a session copy)."""
    calls = []
    google_flow = GoogleFlow(clock=clock)

    @google_flow.store
    def save(credentials, id_info):
        calls.append((credentials.token, credentials.refresh_token, dict(id_info)))

    app = make_app(extension=google_flow)
    app.extensions["store_calls"] = calls
    return app


def test_fresh_token_is_used_without_refresh(client, fake):
    sign_in(client, fake)
    fake.reset_counts()
    data = client.get("/api").get_json()
    assert data["status"] == 200
    assert data["body"]["email"] == fake.default_account.email
    assert fake.request_counts["token"] == 0


def test_expired_token_is_refreshed_and_persisted_in_the_session(client, fake, clock):
    sign_in(client, fake)
    before = me(client)
    clock.advance(3600)
    fake.reset_counts()
    assert client.get("/api").get_json()["status"] == 200
    assert fake.request_counts["token"] == 1
    after = me(client)
    assert after["token"] != before["token"]
    assert fake.access_token_is_valid(after["token"])
    assert after["refresh_token"] == before["refresh_token"]
    # the refreshed token is used from now on: no second refresh
    fake.reset_counts()
    assert client.get("/api").get_json()["status"] == 200
    assert fake.request_counts["token"] == 0


def test_refresh_hands_the_new_token_to_store_and_signals(recording_app, fake, clock):
    client = recording_app.test_client()
    calls = recording_app.extensions["store_calls"]
    sign_in(client, fake)
    refreshed = []

    def receiver(sender, credentials, sub, **extra):
        refreshed.append((credentials.token, sub))

    with signals.credentials_refreshed.connected_to(receiver, sender=recording_app):
        clock.advance(3600)
        assert client.get("/api").get_json()["status"] == 200
    assert len(calls) == 2
    token, refresh_token, id_info = calls[1]
    assert fake.access_token_is_valid(token)
    assert refresh_token == calls[0][1]
    assert id_info["sub"] == fake.default_account.sub
    assert refreshed == [(token, fake.default_account.sub)]


@pytest.mark.parametrize("fake_options", [{"rotate_refresh_tokens": True}])
def test_rotated_refresh_token_is_persisted(client, fake, clock):
    sign_in(client, fake)
    first = me(client)["refresh_token"]
    clock.advance(3600)
    assert client.get("/api").get_json()["status"] == 200
    second = me(client)["refresh_token"]
    assert second != first
    # the old one is dead at the fake; the stored one keeps working
    clock.advance(3600)
    assert client.get("/api").get_json()["status"] == 200
    assert me(client)["refresh_token"] not in (first, second)


def test_refresh_sends_only_granted_scopes(client, fake, clock):
    sign_in(client, fake, granted_scopes=["openid", "email"])
    clock.advance(3600)
    # the fake answers invalid_scope if a refresh asks for more than was granted
    assert client.get("/api").get_json()["status"] == 200


def test_revoked_grant_clears_credentials_and_reauthorizes(client, fake, clock):
    sign_in(client, fake)
    fake.revoke_token(me(client)["refresh_token"])
    clock.advance(3600)
    response = client.get("/api?page=2")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/authorize?")
    assert query_of(location) == {"next": "/api?page=2", "prompt": "consent"}
    assert response.headers["Cache-Control"] == "no-store"
    data = me(client)
    assert data["authorized"] is False
    assert data["user"]["sub"] == fake.default_account.sub  # identity stays
    # following the redirect signs in again with a new refresh token
    response = client.get(location)
    callback = fake.approve(response.headers["Location"])
    from tests.sign_in_helpers import callback_path

    assert client.get(callback_path(callback)).headers["Location"] == "/api?page=2"
    assert me(client)["refresh_token"]
    assert client.get("/api").get_json()["status"] == 200


def test_expired_without_refresh_token_reauthorizes(make_app, fake, clock):
    client = make_app(config={"GOOGLE_FLOW_ACCESS_TYPE": "online"}).test_client()
    sign_in(client, fake)
    assert me(client)["refresh_token"] is None
    clock.advance(3600)
    response = client.get("/api")
    assert response.status_code == 302
    assert query_of(response.headers["Location"])["prompt"] == "consent"


@pytest.mark.parametrize(("kind", "status"), [("server_error", 502), ("timeout", 504)])
def test_token_endpoint_failure_keeps_credentials(client, fake, clock, kind, status, monkeypatch):
    import google.auth._exponential_backoff as backoff

    # google-auth retries a failed refresh itself, with backoff: skip the waiting
    monkeypatch.setattr(backoff.time, "sleep", lambda seconds: None)
    sign_in(client, fake)
    before = me(client)
    clock.advance(3600)
    fake.fail("token", kind, times=None)
    response = client.get("/api")
    fake.clear_failures()
    assert response.status_code == status
    assert before["refresh_token"] not in response.get_data(as_text=True)
    assert me(client)["refresh_token"] == before["refresh_token"]
    assert client.get("/api").get_json()["status"] == 200  # next time it works


def test_no_credentials_redirects_to_authorize(client):
    response = client.get("/api")
    assert response.status_code == 302
    assert query_of(response.headers["Location"]) == {"next": "/api"}


def test_default_timeout_overrides_google_auth(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_HTTP_TIMEOUT": 7})
    client = app.test_client()
    sign_in(client, fake)
    assert client.get("/api-timeout").get_json()["timeout"] == 7
    app2 = make_app(config={"GOOGLE_FLOW_API_TIMEOUT": "30"})
    assert app2.extensions["google_flow"].settings.effective_api_timeout == 30


def test_timeout_is_sent_with_each_call(client, fake, monkeypatch):
    import requests

    sign_in(client, fake)
    timeouts = []
    original = requests.Session.send

    def spy(self, request, **kwargs):
        timeouts.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    client.get("/api")
    assert timeouts and all(t == 10.0 for t in timeouts)


def _concurrent_api_calls(app, client, n=4):
    """Run ``n`` GET /api at once with the same session cookie."""
    cookie = client.get_cookie("session")
    app.config["TEST_API_BARRIER"] = threading.Barrier(n)
    results = []

    def worker():
        c = app.test_client()
        c.set_cookie("session", cookie.value)
        results.append(c.get("/api").get_json())

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    app.config["TEST_API_BARRIER"] = None
    return results


def test_concurrent_requests_refresh_once(app, client, fake, clock):
    sign_in(client, fake)
    clock.advance(3600)
    fake.reset_counts()
    results = _concurrent_api_calls(app, client)
    assert [r["status"] for r in results] == [200] * 4
    assert fake.request_counts["token"] == 1
    assert fake.access_token_is_valid(me(client)["token"])


@pytest.mark.parametrize("fake_options", [{"rotate_refresh_tokens": True}])
def test_concurrent_refresh_with_rotation_keeps_a_valid_refresh_token(app, client, fake, clock):
    sign_in(client, fake)
    clock.advance(3600)
    results = _concurrent_api_calls(app, client)
    assert [r["status"] for r in results] == [200] * 4
    # whichever session write won, the stored refresh token still works
    clock.advance(3600)
    assert client.get("/api").get_json()["status"] == 200


def test_token_about_to_expire_is_refreshed_early(client, fake, clock):
    sign_in(client, fake)
    before = me(client)["token"]
    clock.advance(3599 - 30)  # inside GOOGLE_FLOW_REFRESH_LEEWAY (60 s)
    fake.reset_counts()
    assert client.get("/api").get_json()["status"] == 200
    assert fake.request_counts["token"] == 1
    assert me(client)["token"] != before


def test_no_token_in_our_log_lines(client, fake, clock, caplog, monkeypatch):
    import logging

    import google.auth._exponential_backoff as backoff

    monkeypatch.setattr(backoff.time, "sleep", lambda seconds: None)
    caplog.set_level(logging.DEBUG, logger="flask_google_flow")
    sign_in(client, fake)
    secrets = [me(client)["token"], me(client)["refresh_token"]]
    clock.advance(3600)
    fake.fail("token", "server_error", times=None)
    client.get("/api")
    fake.clear_failures()
    client.get("/api")
    secrets.append(me(client)["token"])
    fake.revoke_token(secrets[1])
    clock.advance(3600)
    client.get("/api")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "flask_google_flow")
    assert "refresh" in text
    assert not any(secret in text for secret in secrets)


def test_a_fresh_sign_in_is_not_refreshed_whatever_the_apps_clock_says(make_app, fake, clock):
    """Sign-in and refresh count the token's lifetime on the same (app) clock."""
    clock.advance(2 * 3600)  # the app's clock runs ahead of the wall clock
    client = make_app().test_client()
    assert sign_in(client, fake).status_code == 302
    fake.reset_counts()
    assert client.get("/api").status_code == 200
    assert fake.request_counts["token"] == 0  # no refresh right after sign-in


def test_a_refresh_makes_new_credentials_and_leaves_the_old_ones_alone(make_app, fake, clock):
    """No in-place surgery on google-auth objects: a refresh gives new ``Credentials``."""
    app = make_app()
    google_flow = app.extensions["test_google_flow"]
    seen: dict = {}

    @app.route("/refresh-objects")
    def refresh_objects():
        before = google_flow.credentials
        seen["old_token"] = before.token
        http = google_flow.authorized_session()
        http.get(fake.endpoints.userinfo)
        seen.update(
            before=before,
            after=http.credentials,
            current=google_flow.credentials,
        )
        return "ok"

    client = app.test_client()
    sign_in(client, fake)
    clock.advance(3600)
    assert client.get("/refresh-objects").status_code == 200
    assert seen["after"] is not seen["before"]
    assert seen["before"].token == seen["old_token"]  # the old object was not changed
    assert seen["after"].token != seen["old_token"]
    assert seen["current"] is seen["after"]  # google_flow.credentials are the new ones
    assert seen["after"].refresh_token == seen["before"].refresh_token
    assert seen["after"].client_secret == seen["before"].client_secret
