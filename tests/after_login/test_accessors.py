"""The current user: ``google_flow.user/credentials/is_authorized``, scopes, ``load``."""

from __future__ import annotations

from flask import Flask

from flask_google_flow import GoogleFlow, current_google_credentials, current_google_user
from tests.sign_in_helpers import sign_in

from .conftest import me


def test_anonymous_has_nothing(client):
    data = me(client)
    assert data["user"] is None
    assert data["authorized"] is False
    assert data["token"] is None
    assert data["granted"] == [] and data["requested"] == []


def test_accessors_outside_a_request_are_empty(app: Flask):
    google_flow: GoogleFlow = app.extensions["test_google_flow"]
    with app.app_context():
        assert google_flow.user is None
        assert google_flow.credentials is None
        assert not current_google_user


def test_signed_in_user_claims_and_credentials(client, fake):
    assert sign_in(client, fake).status_code == 302
    data = me(client)
    assert data["user"]["email"] == fake.default_account.email
    assert data["user"]["sub"] == fake.default_account.sub
    assert "nonce" not in data["user"]
    assert data["proxy_email"] == fake.default_account.email
    assert data["authorized"] is True
    assert fake.access_token_is_valid(data["token"])
    assert data["refresh_token"]


def test_credentials_are_loaded_once_per_request(make_app, fake, clock):
    loads = []
    google_flow = GoogleFlow(clock=clock)
    kept = {}

    @google_flow.store
    def save(credentials, id_info):
        kept[id_info["sub"]] = credentials

    @google_flow.load
    def load(sub):
        loads.append(sub)
        return kept.get(sub)

    app = make_app(extension=google_flow)

    @app.route("/twice")
    def twice():
        first = google_flow.credentials
        assert current_google_credentials.token == first.token
        assert google_flow.credentials is first
        assert google_flow.is_authorized
        return "ok"

    client = app.test_client()
    sign_in(client, fake)
    loads.clear()
    assert client.get("/twice").status_code == 200
    assert loads == [fake.default_account.sub]


def test_partial_consent_reports_granted_and_requested(make_app, fake, clock):
    received = []
    google_flow = GoogleFlow(clock=clock)

    @google_flow.store
    def save(credentials, id_info):
        received.append(credentials)

    client = make_app(extension=google_flow).test_client()
    sign_in(client, fake, granted_scopes=["openid", "email"])
    credentials = received[0]
    # The credentials carry what was granted, so refreshing them asks for no declined scope.
    granted = {"openid", "https://www.googleapis.com/auth/userinfo.email"}
    assert set(credentials.scopes) == granted
    assert set(credentials.granted_scopes) == granted
    data = me(client)
    assert data["requested"] == ["openid", "email", "profile"]
    assert set(data["granted"]) == {"openid", "https://www.googleapis.com/auth/userinfo.email"}


def test_store_without_load_keeps_a_session_copy(make_app, fake, clock):
    received = []
    google_flow = GoogleFlow(clock=clock)

    @google_flow.store
    def save(credentials, id_info):
        received.append(credentials.token)

    client = make_app(extension=google_flow).test_client()
    sign_in(client, fake)
    data = me(client)
    assert data["authorized"] is True
    assert data["token"] == received[0]
    # and refresh works on that copy, handing the new token to the app's store too
    clock.advance(3600)
    assert client.get("/api").get_json()["status"] == 200
    assert len(received) == 2
    assert me(client)["token"] == received[1]


def test_load_returning_none_means_not_authorized(make_app, fake, clock):
    google_flow = GoogleFlow(clock=clock, store=lambda c, i: None, load=lambda sub: None)
    client = make_app(extension=google_flow).test_client()
    sign_in(client, fake)
    data = me(client)
    assert data["user"]["sub"] == fake.default_account.sub
    assert data["authorized"] is False


def test_no_token_in_the_cookie(client, fake):
    sign_in(client, fake)
    token = me(client)["token"]
    cookie = client.get_cookie("session")
    assert token not in cookie.value
