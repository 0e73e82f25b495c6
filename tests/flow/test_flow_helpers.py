"""helpers: sessions from client configs, credentials from sessions."""

from __future__ import annotations

import datetime

import google.auth.external_account_authorized_user
import pytest
import requests_oauthlib
from flow_support import CLIENT_SECRET, SCOPES, TOKEN_URI, dump, make_config

from flask_google_flow import helpers
from flask_google_flow.exceptions import ClientSecretsError


def test_session_from_client_config():
    config = make_config()
    session, returned = helpers.session_from_client_config(
        config, SCOPES, redirect_uri="https://a.example/cb", state="st"
    )
    assert isinstance(session, requests_oauthlib.OAuth2Session)
    assert returned is config
    assert session.client_id == "cid.apps.googleusercontent.com"
    assert session.scope == SCOPES
    assert session.redirect_uri == "https://a.example/cb"


def test_session_from_client_secrets_file(tmp_path):
    path = tmp_path / "c.json"
    dump(path, make_config("installed"))
    session, config = helpers.session_from_client_secrets_file(str(path), SCOPES)
    assert "installed" in config and session.scope == SCOPES


@pytest.mark.parametrize(
    "config", [{"other": {}}, {"web": {"client_id": "x"}}], ids=["no-type", "missing-keys"]
)
def test_bad_config_raises_value_error(config):
    with pytest.raises(ValueError) as info:
        helpers.session_from_client_config(config, SCOPES)
    assert isinstance(info.value, ClientSecretsError)


def test_credentials_from_session_requires_token():
    session, _ = helpers.session_from_client_config(make_config(), SCOPES)
    with pytest.raises(ValueError, match="fetch_token"):
        helpers.credentials_from_session(session)


def test_credentials_from_session():
    session, config = helpers.session_from_client_config(make_config(), SCOPES)
    session.token = {
        "access_token": "at",
        "token_type": "Bearer",
        "refresh_token": "rt",
        "id_token": "idt",
        "scope": ["openid"],
        "expires_at": 2_000_000_000,
    }
    creds = helpers.credentials_from_session(session, config["web"])
    assert (creds.token, creds.refresh_token, creds.id_token) == ("at", "rt", "idt")
    assert creds.client_secret == CLIENT_SECRET and creds.token_uri == TOKEN_URI
    # The granted scopes, so a refresh never asks for an ungranted one.
    assert creds.scopes == ["openid"] and creds.granted_scopes == ["openid"]
    del session.token["scope"]
    session.token = session.token
    unreported = helpers.credentials_from_session(session, config["web"])
    assert unreported.scopes == SCOPES and unreported.granted_scopes is None
    assert creds.expiry == datetime.datetime(2033, 5, 18, 3, 33, 20)
    bare = helpers.credentials_from_session(session)
    assert bare.client_id is None and bare.token_uri is None


def test_credentials_from_session_3pi():
    session, _ = helpers.session_from_client_config(make_config(), SCOPES)
    session.token = {"access_token": "at", "token_type": "Bearer", "expires_at": 2_000_000_000}
    config = {**make_config()["web"], "3pi": True, "token_info_url": "https://t.example/info"}
    creds = helpers.credentials_from_session(session, config)
    assert isinstance(creds, google.auth.external_account_authorized_user.Credentials)
    assert creds.token == "at"
