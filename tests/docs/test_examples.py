"""The examples the docs include, run against the in-process fake Google."""

from __future__ import annotations

import json

from .conftest import CALLBACK, load_example, path_of, sign_in


def test_quickstart_app_signs_in(fake, tmp_path):
    quickstart = load_example("quickstart_app")
    app = quickstart.create_app(
        {
            "GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK]),
            "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        }
    )
    client = app.test_client()
    assert "Sign in with Google" in client.get("/").get_data(as_text=True)
    response = sign_in(client, fake, "/authorize?next=/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").get_data(as_text=True).startswith("Hello Test User (")
    # The "Sign out" form posts to /logout from the app's own page (same origin).
    out = client.post("/logout", headers={"Origin": "http://localhost"})
    assert out.status_code == 302
    assert "Sign in with Google" in client.get("/").get_data(as_text=True)


def test_quickstart_development_mode_with_the_fake_google_server(tmp_path, monkeypatch):
    """The quick start's "no Google account yet" recipe: the fake as a real HTTP server."""
    import json

    from flask_google_flow.testing import FakeGoogle

    fake = FakeGoogle(redirect_uris=["http://127.0.0.1:5000/oauth2callback"])
    with fake.serve() as base_url:
        secrets_file = tmp_path / "fake_client_secret.json"
        secrets_file.write_text(json.dumps(fake.client_config()))
        monkeypatch.setenv("FLASK_GOOGLE_CLIENT_SECRETS_FILE", str(secrets_file))
        monkeypatch.setenv(
            "FLASK_GOOGLE_FLOW_DISCOVERY_URL", f"{base_url}/.well-known/openid-configuration"
        )
        monkeypatch.setenv("FLASK_GOOGLE_FLOW_CA_BUNDLE", fake.ca_bundle)
        monkeypatch.setenv("FLASK_GOOGLE_FLOW_SESSION_DIR", str(tmp_path / "sessions"))
        app = load_example("quickstart_app").create_app()
        client = app.test_client()
        start = client.get("/authorize?next=/")
        assert start.headers["Location"].startswith(fake.front_channel_url + "/")
        callback = fake.approve(start.headers["Location"])
        assert callback.startswith("http://127.0.0.1:5000/oauth2callback?")
        response = client.get(path_of(callback))
        assert response.status_code == 302, response.get_data(as_text=True)
        assert client.get("/").get_data(as_text=True).startswith("Hello Test User (")


def test_configuration_example_merges_arguments_config_and_defaults(fake, monkeypatch, tmp_path):
    from flask_google_flow import GoogleFlow

    monkeypatch.setenv("FLASK_GOOGLE_CLIENT_CONFIG", json.dumps(fake.client_config([CALLBACK])))
    monkeypatch.setenv("FLASK_GOOGLE_FLOW_HOSTED_DOMAIN", "example.com")
    monkeypatch.setenv("FLASK_GOOGLE_FLOW_SESSION_DIR", str(tmp_path))
    app = load_example("configuration").create_app()
    settings = GoogleFlow.state(app).settings
    assert settings.scopes == ("openid", "email", "profile")
    assert settings.extra_scopes == ("https://www.googleapis.com/auth/drive.readonly",)
    assert settings.pending_ttl == 300
    assert settings.hosted_domain == "example.com"
    assert settings.url_prefix == "/auth"
    assert settings.default_next == "/home"
    assert settings.access_type == "offline"
    with app.test_request_context():
        from flask import url_for

        assert url_for("google_flow.authorize") == "/auth/authorize"


def test_redirect_uri_with_the_same_path_listed_twice_follows_the_host(fake, tmp_path):
    """Rule 2 of the redirect URI on the configuration page."""
    from flask import Flask

    from flask_google_flow import GoogleFlow

    uris = ["http://127.0.0.1:5000/oauth2callback", "https://app.example.com/oauth2callback"]
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="x",
        GOOGLE_CLIENT_CONFIG=fake.client_config(uris),
        GOOGLE_FLOW_SESSION_DIR=str(tmp_path),
    )
    GoogleFlow(app)
    client = app.test_client()
    local = client.get("/authorize", base_url="http://127.0.0.1:5000").headers["Location"]
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Foauth2callback" in local
    prod = client.get("/authorize", base_url="https://app.example.com").headers["Location"]
    assert "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth2callback" in prod


def test_redis_example_installs_the_redis_session_and_pending_store(fake, monkeypatch):
    from flask_session.redis import RedisSessionInterface

    from flask_google_flow import GoogleFlow
    from flask_google_flow.ext.pending import RedisPendingFlowStore

    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never contacted here
    module = load_example("redis_sessions")
    monkeypatch.setattr(
        module.Flask,
        "config_class",
        _config_with({"GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK])}),
    )
    app = module.create_app()
    assert isinstance(app.session_interface.wrapped, RedisSessionInterface)
    assert isinstance(GoogleFlow.state(app).pending.store, RedisPendingFlowStore)
    client = app.session_interface.client  # fail_fast_redis: short timeouts, no backoff
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 2.0
    assert client.connection_pool.connection_kwargs["socket_connect_timeout"] == 1.0
    # Redis is unreachable here: the page is a 503, quickly, not a 500.
    response = app.test_client().get("/authorize")
    assert response.status_code == 503


def test_production_settings_keep_the_callback_working(fake, tmp_path):
    """SameSite=Lax: the cookie is sent on Google's top-level redirect back."""
    from flask import Flask

    from flask_google_flow import GoogleFlow

    app = Flask(__name__)
    app.config.from_object(load_example("production_settings"))
    app.config.update(
        SECRET_KEY="x",
        GOOGLE_CLIENT_CONFIG=fake.client_config(["https://localhost/oauth2callback"]),
        GOOGLE_FLOW_SESSION_DIR=str(tmp_path),
    )
    GoogleFlow(app)
    client = app.test_client()
    start = client.get("/authorize", base_url="https://localhost")
    cookie = start.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    callback = fake.approve(start.headers["Location"])
    response = client.get(path_of(callback), base_url="https://localhost")
    assert response.status_code == 302


def _config_with(overrides):
    """A Flask ``config_class`` whose ``update`` always applies *overrides* last."""
    from flask import Config

    class TestConfig(Config):
        def update(self, *args, **kwargs):
            super().update(*args, **kwargs)
            super().update(overrides)

    return TestConfig


def test_error_handlers_example(fake, tmp_path):
    app = load_example("error_handlers").create_app(
        {
            "SECRET_KEY": "x",
            "GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK]),
            "GOOGLE_FLOW_SESSION_DIR": str(tmp_path),
        }
    )
    client = app.test_client()
    denied = client.get(path_of(fake.deny(client.get("/authorize").headers["Location"])))
    assert denied.status_code == 200
    assert "keep browsing" in denied.get_data(as_text=True)
    unknown = client.get("/oauth2callback?state=forged&code=x")
    assert unknown.status_code == 400
    assert "<h1>Sign-in expired</h1>" in unknown.get_data(as_text=True)


def test_user_from_claims_keys_by_sub_and_trusts_only_verified_email(fake, tmp_path):
    from flask import Flask

    from flask_google_flow import GoogleFlow

    account_for = load_example("user_from_claims").account_for
    users = {}
    flow = GoogleFlow(store=lambda credentials, id_info: account_for(id_info, users))
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="x",
        GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        GOOGLE_FLOW_SESSION_DIR=str(tmp_path),
    )
    flow.init_app(app)
    fake.add_account("unverified@example.com", email_verified=False, sub="111")
    sign_in(app.test_client(), fake, account="unverified@example.com")
    sign_in(app.test_client(), fake)  # the default, verified account
    assert users["111"] == {"sub": "111", "name": "Unverified"}
    [verified] = [u for sub, u in users.items() if sub != "111"]
    assert verified["email"] == "tester@example.com"
