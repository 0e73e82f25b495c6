"""The happy path of a sign-in through /authorize and /oauth2callback."""

from __future__ import annotations

import base64
import hashlib

import pytest
from flask import make_response

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import DEFAULT_CLIENT_ID
from tests.sign_in_helpers import CALLBACK, callback_path, query_of, sign_in, start


def test_authorize_redirects_with_every_required_parameter(client, fake):
    location = start(client, next="/profile")
    assert location.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    q = query_of(location)
    assert q["response_type"] == "code"
    assert q["client_id"] == DEFAULT_CLIENT_ID
    assert q["redirect_uri"] == CALLBACK
    assert q["scope"].split() == ["openid", "email", "profile"]
    assert q["code_challenge_method"] == "S256"
    assert len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 43
    assert len(q["nonce"]) >= 22
    assert q["access_type"] == "offline"
    for absent in ("prompt", "hd", "login_hint", "include_granted_scopes"):
        assert absent not in q


def test_full_sign_in_stores_credentials_and_redirects_to_next(client, fake, stored):
    response = sign_in(client, fake, next="/profile?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile?tab=1"
    assert response.headers["Cache-Control"] == "no-store"
    [(credentials, id_info)] = stored
    assert credentials.token and credentials.refresh_token
    assert credentials.client_id == DEFAULT_CLIENT_ID
    assert set(credentials.granted_scopes) >= {"openid"}
    assert id_info["email"] == "tester@example.com"
    assert id_info["iss"] == "https://accounts.google.com"
    assert id_info["aud"] == DEFAULT_CLIENT_ID
    assert client.get("/").get_data(as_text=True) == "home tester@example.com"


def test_verifier_sent_to_the_token_endpoint_matches_the_challenge(client, fake, monkeypatch):
    location = start(client)
    challenge = query_of(location)["code_challenge"]
    seen = {}
    original = fake.exchange_code

    def spy(client_, code, redirect_uri, code_verifier):
        seen.update(redirect_uri=redirect_uri, code_verifier=code_verifier)
        return original(client_, code, redirect_uri, code_verifier)

    monkeypatch.setattr(fake, "exchange_code", spy)
    response = client.get(callback_path(fake.approve(location)))
    assert response.status_code == 302
    verifier = seen["code_verifier"]
    assert seen["redirect_uri"] == CALLBACK
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == challenge
    assert 43 <= len(verifier) <= 128


def test_without_next_goes_to_the_default(client, fake):
    assert sign_in(client, fake).headers["Location"] == "/"


def test_default_next_is_configurable(make_app, fake):
    app = make_app(default_next="/welcome")
    assert sign_in(app.test_client(), fake).headers["Location"] == "/welcome"


def test_login_hint_prompt_and_hosted_domain_are_sent(make_app, fake):
    fake.add_account("boss@corp.example", hosted_domain="corp.example")
    app = make_app(hosted_domain="corp.example")
    client = app.test_client()
    location = start(client, login_hint="boss@corp.example", prompt="consent select_account")
    q = query_of(location)
    assert q["hd"] == "corp.example"
    assert q["login_hint"] == "boss@corp.example"
    assert q["prompt"] == "consent select_account"
    response = client.get(callback_path(fake.approve(location)))
    assert response.status_code == 302


def test_only_server_values_reach_the_provider(client, fake):
    location = start(
        client,
        redirect_uri="https://evil.example/cb",
        code_challenge="attacker",
        code_challenge_method="plain",
        state="attacker-state",
        access_type="online",
        client_id="someone-else",
        nonce="attacker-nonce",
        response_type="token",
    )
    q = query_of(location)
    assert q["redirect_uri"] == CALLBACK
    assert q["code_challenge"] != "attacker"
    assert q["code_challenge_method"] == "S256"
    assert q["state"] != "attacker-state"
    assert q["access_type"] == "offline"
    assert q["client_id"] == DEFAULT_CLIENT_ID
    assert q["nonce"] != "attacker-nonce"
    assert q["response_type"] == "code"


def test_store_may_return_its_own_response(make_app, fake):
    extension = GoogleFlow()

    @extension.store
    def save(credentials, id_info):
        return make_response("welcome aboard", 201)

    app = make_app(extension=extension)
    response = sign_in(app.test_client(), fake)
    assert response.status_code == 201
    assert response.get_data(as_text=True) == "welcome aboard"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "returned",
    [False, 0, True, 1, "", "a string", ("welcome", 201), {"json": 1}, [], object()],
    ids=repr,
)
def test_store_return_values_other_than_a_response_are_ignored(make_app, fake, returned):
    extension = GoogleFlow()
    seen = []

    @extension.store
    def save(credentials, id_info):
        seen.append(id_info["sub"])
        return returned

    app = make_app(extension=extension)
    response = sign_in(app.test_client(), fake, next="/profile")
    assert response.status_code == 302  # never a 500
    assert response.headers["Location"] == "/profile"
    assert seen  # the store ran and the user is signed in


def test_default_storage_keeps_credentials_in_the_server_side_session(make_app, fake):
    app = make_app(extension=GoogleFlow())
    client = app.test_client()
    assert sign_in(client, fake).status_code == 302
    with client.session_transaction() as sess:
        data = sess["_google_flow_credentials"]
        assert data["token"] and data["refresh_token"]
        assert data["expiry"].endswith("+00:00")
        assert "client_secret" not in data
    cookie = client.get_cookie("session")
    assert data["token"] not in cookie.value
    assert len(cookie.value) < 64
