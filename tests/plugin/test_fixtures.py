"""The plugin's fixtures used directly (the plugin is loaded through its entry point)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort, session

from flask_google_flow import GoogleFlow

DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def make_app(fake: Any, tmp_path: Any, stored: list, **options: Any) -> Flask:
    """A small app with a view only a signed-in user may see."""
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    redirect_uris = options.pop("redirect_uris", None)
    app.config.update(
        SECRET_KEY="test",
        GOOGLE_CLIENT_CONFIG=fake.client_config(redirect_uris=redirect_uris),
        GOOGLE_FLOW_EXTRA_SCOPES=[DRIVE],
    )
    extension = GoogleFlow(**options)

    @extension.store
    def save(credentials, id_info):
        stored.append((credentials, dict(id_info)))

    extension.init_app(app)

    @app.route("/profile")
    def profile():
        user = session.get("_google_flow_user")
        if not user:
            abort(401)
        return {"email": user["claims"].get("email"), "scopes": user["scopes"]}

    return app


@pytest.fixture
def stored() -> list:
    return []


@pytest.fixture
def app(fake_google, tmp_path, stored) -> Flask:
    return make_app(fake_google, tmp_path, stored)


def test_login_as_a_new_account_runs_the_real_callback(app, google_login, stored):
    client = app.test_client()
    assert client.get("/profile").status_code == 401
    response = google_login(client, account="alice@example.com", next="/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    assert client.get("/profile").json["email"] == "alice@example.com"
    [(credentials, id_info)] = stored
    assert id_info["email"] == "alice@example.com"
    assert credentials.refresh_token


def test_default_account_and_default_next(app, google_login, fake_google):
    client = app.test_client()
    assert google_login(client).headers["Location"] == "/"
    assert client.get("/profile").json["email"] == fake_google.default_account.email


def test_extra_scope_is_requested_and_granted(app, google_login):
    client = app.test_client()
    google_login(client, scopes=["openid", "email", "profile", DRIVE])
    assert DRIVE in client.get("/profile").json["scopes"]


def test_partial_consent_grants_only_the_given_scopes(app, google_login):
    client = app.test_client()
    google_login(client, scopes=["openid", "email"])
    scopes = client.get("/profile").json["scopes"]
    assert "https://www.googleapis.com/auth/userinfo.profile" not in scopes
    assert "profile" not in scopes
    assert DRIVE not in scopes


def test_identity_scopes_in_url_form_are_not_extra(app, google_login):
    client = app.test_client()
    response = google_login(
        client, scopes=["openid", "https://www.googleapis.com/auth/userinfo.email"]
    )
    assert response.status_code == 302


def test_deny_returns_the_cancelled_page(app, google_login, stored):
    client = app.test_client()
    response = google_login.deny(client, next="/profile")
    assert response.status_code == 403
    assert "cancelled" in response.get_data(as_text=True).lower()
    assert stored == []
    assert client.get("/profile").status_code == 401


def test_start_returns_the_fake_authorization_url(app, google_login, fake_google):
    location = google_login.start(app.test_client(), next="/profile")
    assert location.startswith(fake_google.endpoints.authorization + "?")


def test_url_prefix_is_found_with_url_for(fake_google, tmp_path, stored, google_login):
    app = make_app(
        fake_google,
        tmp_path,
        stored,
        url_prefix="/auth",
        redirect_uris=["http://localhost/auth/oauth2callback"],
    )
    client = app.test_client()
    assert google_login(client, account="bob@example.com").status_code == 302
    assert client.get("/profile").json["email"] == "bob@example.com"


def test_unregistered_redirect_uri_fails_with_a_hint(fake_google, tmp_path, stored, google_login):
    # Mounted under /auth, the app's callback URL is not the one registered with the fake.
    # (An explicit GOOGLE_FLOW_REDIRECT_URI that is not registered already fails at init_app.)
    app = make_app(fake_google, tmp_path, stored, url_prefix="/auth")
    with pytest.raises(AssertionError, match="redirect_uris"):
        google_login(app.test_client())


def test_a_failed_callback_fails_the_test_unless_check_is_off(app, google_login, fake_google):
    fake_google.fail_token("server_error")
    with pytest.raises(AssertionError, match="502"):
        google_login(app.test_client())
    fake_google.fail_token("server_error")
    assert google_login(app.test_client(), check=False).status_code == 502


def test_authorize_that_does_not_redirect_fails_clearly(app, google_login):
    with pytest.raises(AssertionError, match="400"):
        google_login(app.test_client(), extra_scopes=["https://www.googleapis.com/auth/gmail.send"])


@pytest.mark.fake_google(refresh_token_on_every_consent=True)
def test_marker_passes_options_to_the_fake(fake_google):
    assert fake_google.refresh_token_on_every_consent is True


def test_the_fake_runs_on_the_clock_fixture(fake_google, fake_google_clock):
    assert fake_google.clock is fake_google_clock
    before = fake_google.clock()
    fake_google_clock.advance(3600)
    assert fake_google.clock() == before + 3600


def test_fake_google_server_serves_over_http(fake_google_server):
    import requests

    assert fake_google_server.base_url.startswith("https://127.0.0.1:")
    assert fake_google_server.front_channel_url.startswith("http://127.0.0.1:")
    document = requests.get(
        fake_google_server.discovery_url, timeout=5, verify=fake_google_server.ca_bundle
    ).json()
    assert document["issuer"] == fake_google_server.base_url
    assert document["authorization_endpoint"].startswith(fake_google_server.front_channel_url)
