"""The examples of the after-sign-in guides: credentials, APIs, scopes, sign-out."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.signals import credentials_refreshed
from flask_google_flow.testing import FakeClock, FakeGoogle

from .conftest import CALLBACK, load_example, sign_in


def _config(fake, tmp_path, **extra):
    return {
        "SECRET_KEY": "x",
        "GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK]),
        "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        **extra,
    }


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def timed_fake(clock):
    """The fake Google on a clock the test moves."""
    google = FakeGoogle(clock=clock)
    with google.intercept():
        yield google


# -- guides/credentials: calling_apis.py ---------------------------------------------


def test_authorized_session_refreshes_once_and_persists(timed_fake, clock, tmp_path):
    fake = timed_fake
    app = load_example("calling_apis").create_app(_config(fake, tmp_path), clock=clock)
    client = app.test_client()
    anonymous = client.get("/me")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/authorize?next=/me"

    sign_in(client, fake)
    assert client.get("/me").get_json()["email"] == "tester@example.com"

    refreshed = []
    clock.advance(3600)  # the access token has expired
    fake.reset_counts()
    with credentials_refreshed.connected_to(
        lambda sender, sub, **extra: refreshed.append(sub), sender=app
    ):
        assert client.get("/me").status_code == 200
    assert fake.request_counts["token"] == 1
    assert refreshed == [fake.default_account.sub]
    fake.reset_counts()
    assert client.get("/me").status_code == 200  # the new token was saved: no refresh
    assert fake.request_counts["token"] == 0


def test_revoked_grant_sends_the_user_through_consent_again(timed_fake, clock, tmp_path):
    fake = timed_fake
    app = load_example("calling_apis").create_app(_config(fake, tmp_path), clock=clock)
    client = app.test_client()
    sign_in(client, fake)
    fake.revoke_all_tokens()  # the user removed the app in their Google account
    clock.advance(3600)
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/authorize?")
    assert "prompt=consent" in response.headers["Location"]


def test_api_timeout_setting_of_the_example(fake, tmp_path):
    app = load_example("calling_apis").create_app(_config(fake, tmp_path))
    assert GoogleFlow.state(app).settings.effective_api_timeout == 5


def test_google_api_python_client_gets_the_users_credentials(fake, tmp_path, monkeypatch):
    module = load_example("calling_apis")
    built = {}

    class Files:
        def list(self, **params):
            return types.SimpleNamespace(execute=lambda: {"files": [], "params": params})

    def build(name, version, credentials):
        built.update(name=name, version=version, credentials=credentials)
        return types.SimpleNamespace(files=Files)

    package = types.ModuleType("googleapiclient")
    discovery = types.ModuleType("googleapiclient.discovery")
    discovery.build = build
    package.discovery = discovery
    monkeypatch.setitem(sys.modules, "googleapiclient", package)
    monkeypatch.setitem(sys.modules, "googleapiclient.discovery", discovery)

    app = module.create_app(_config(fake, tmp_path))
    google_flow = GoogleFlow.state(app).extension
    client = app.test_client()
    sign_in(client, fake)
    with client:
        client.get("/me")
        assert module.drive_files(google_flow) == {"files": [], "params": {"pageSize": 10}}
        assert built["credentials"].token == google_flow.credentials.token
    assert (built["name"], built["version"]) == ("drive", "v3")


# -- guides/credentials: database_store.py after a refresh -------------------------------


def test_refreshed_token_is_written_to_the_database(fake, tmp_path, monkeypatch):
    module = load_example("database_store")
    monkeypatch.setattr(module, "DATABASE", str(tmp_path / "app.sqlite3"))
    app = Flask(__name__)
    app.config.update(_config(fake, tmp_path))
    module.google_flow.init_app(app)

    @app.route("/me")
    def me():
        return module.google_flow.authorized_session().get(fake.endpoints.userinfo).json()

    client = app.test_client()
    sign_in(client, fake)
    sub = fake.default_account.sub
    before = module.load(sub)
    # Make the stored token look expired, as it will be an hour later.
    data = json.loads(before.to_json())
    data["expiry"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    with module.db() as connection:
        connection.execute(
            "UPDATE google_credentials SET data = ? WHERE sub = ?", (json.dumps(data), sub)
        )
    assert client.get("/me").get_json()["sub"] == sub
    after = module.load(sub)
    assert after.token != before.token and fake.access_token_is_valid(after.token)
    assert after.refresh_token == before.refresh_token


# -- guides/revoke-logout: sign_out.py ---------------------------------------------------

ORIGIN = {"Origin": "http://localhost"}


def test_sign_out_form_logs_out_and_signals(fake, tmp_path):
    from flask_google_flow.ext.signals import logged_out

    app = load_example("sign_out").create_app(_config(fake, tmp_path))
    client = app.test_client()
    sign_in(client, fake)
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page and 'action="/revoke"' in page
    subs = []
    with logged_out.connected_to(lambda sender, sub, **extra: subs.append(sub), sender=app):
        response = client.post("/logout", data={"next": "/"}, headers=ORIGIN)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert subs == [fake.default_account.sub]
    assert "Sign in with Google" in client.get("/").get_data(as_text=True)


def test_sign_out_requires_the_same_origin(fake, tmp_path):
    app = load_example("sign_out").create_app(_config(fake, tmp_path))
    client = app.test_client()
    sign_in(client, fake)
    evil = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "Request refused" in evil.get_data(as_text=True)
    assert client.post("/logout").status_code == 403  # neither Origin nor Referer
    assert client.post("/revoke", headers={"Origin": "null"}).status_code == 403
    assert "Signed in as" in client.get("/").get_data(as_text=True)  # still signed in
    referer = client.post("/logout", headers={"Referer": "http://localhost/"})
    assert referer.status_code == 302


@pytest.mark.parametrize(
    ("script", "outcome"),
    [(None, "revoked"), ("server_error", "failed"), ("timeout", "failed")],
)
def test_disconnect_form_revokes_and_reports_the_outcome(fake, tmp_path, script, outcome):
    from flask_google_flow.ext.signals import credentials_revoked

    app = load_example("sign_out").create_app(_config(fake, tmp_path))
    client = app.test_client()
    sign_in(client, fake)
    if script:
        fake.fail("revoke", script)
    seen = []
    with credentials_revoked.connected_to(
        lambda sender, **kw: seen.append(kw["outcome"]), sender=app
    ):
        response = client.post("/revoke", data={"next": "/"}, headers=ORIGIN)
    assert response.headers["Location"] == f"/?google_flow_revoke={outcome}"
    assert seen == [outcome]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert load_example("sign_out").NOTICES[outcome].split(":")[0] in page
    assert "Sign in with Google" in page


def test_revoke_twice_reports_none_and_a_revoked_token_reports_invalid(fake, tmp_path):
    app = load_example("sign_out").create_app(_config(fake, tmp_path))
    client = app.test_client()
    assert client.post("/revoke", headers=ORIGIN).headers["Location"].endswith("=none")
    sign_in(client, fake)
    fake.revoke_all_tokens()  # already removed in the user's Google account
    assert client.post("/revoke", headers=ORIGIN).headers["Location"].endswith("=invalid")


def test_logout_keeps_database_credentials_and_revoke_deletes_them(fake, tmp_path, monkeypatch):
    module = load_example("database_store")
    monkeypatch.setattr(module, "DATABASE", str(tmp_path / "app.sqlite3"))
    app = Flask(__name__)
    app.config.update(_config(fake, tmp_path))
    module.google_flow.init_app(app)
    client = app.test_client()
    sub = fake.default_account.sub
    sign_in(client, fake)
    client.post("/logout", headers=ORIGIN)
    assert module.load(sub) is not None  # logout: delete() is not called
    sign_in(client, fake)
    client.post("/revoke", headers=ORIGIN)
    assert module.load(sub) is None  # revoke: delete(sub) ran


# -- errors: the session backend guard ------------------------------------------------------


def test_extra_backend_errors_are_guarded_when_given_before_init_app(fake, tmp_path):
    from cachelib import FileSystemCache
    from flask_session import Session

    from flask_google_flow.ext.resilience import guard_session_backend

    class BackendDown(Exception):
        pass

    app = Flask(__name__)
    app.config.update(
        _config(fake, tmp_path),
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=FileSystemCache(str(tmp_path / "cache")),
    )
    Session(app)
    guard_session_backend(app, extra_errors=(BackendDown,))
    GoogleFlow(app)

    def broken(*args, **kwargs):
        raise BackendDown()

    app.session_interface.cache.get = broken  # the backend's client now fails
    response = app.test_client().get("/authorize")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True)
