"""The examples of the guides (``docs/guides/``), against the in-process fake Google."""

from __future__ import annotations

import json

from flask import Flask, url_for

from flask_google_flow import GoogleFlow

from .conftest import CALLBACK, load_example, path_of, sign_in


def _config(fake, tmp_path, redirect_uris=(CALLBACK,), **extra):
    return {
        "SECRET_KEY": "x",
        "GOOGLE_CLIENT_CONFIG": fake.client_config(list(redirect_uris)),
        "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        **extra,
    }


def test_database_store_keeps_credentials_by_sub(fake, tmp_path, monkeypatch):
    module = load_example("database_store")
    monkeypatch.setattr(module, "DATABASE", str(tmp_path / "app.sqlite3"))
    app = Flask(__name__)
    app.config.update(_config(fake, tmp_path))
    module.google_flow.init_app(app)
    assert sign_in(app.test_client(), fake).status_code == 302
    sub = fake.default_account.sub
    credentials = module.load(sub)
    assert credentials.refresh_token and credentials.token
    module.delete(sub)
    assert module.load(sub) is None


def test_incremental_authorization_and_partial_consent(fake, tmp_path):
    module = load_example("incremental")
    app = module.create_app(_config(fake, tmp_path))
    client = app.test_client()
    # Nobody signed in: sign-in and the view's scope in one consent, back to /files.
    first = client.get("/files")
    assert first.status_code == 302
    assert first.headers["Location"] == f"/authorize?next=/files&scope={module.DRIVE}"

    sign_in(client, fake, granted_scopes=["openid", "email"])  # partial consent: no profile
    assert client.get("/account").get_json()["declined"] == ["profile"]

    # Signed in without Drive: asked for the missing scope only, on top of the grant.
    location = client.get(client.get("/files").headers["Location"]).headers["Location"]
    assert "include_granted_scopes=true" in location
    declined = client.get(path_of(fake.approve(location, granted_scopes=["openid", "email"])))
    assert declined.headers["Location"] == "/files"
    refused = client.get("/files")
    assert refused.status_code == 403 and "needs Drive access" in refused.get_data(as_text=True)

    # A new visit asks again; this time the user allows it.
    location = client.get(client.get("/files").headers["Location"]).headers["Location"]
    client.get(path_of(fake.approve(location)))
    assert client.get("/files").get_data(as_text=True) == "your files..."


def test_incremental_connect_link_is_allowed(fake, tmp_path):
    module = load_example("incremental")
    app = module.create_app(_config(fake, tmp_path))
    client = app.test_client()
    sign_in(client, fake)
    connect = client.get("/account").get_json()["connect_drive"]
    location = client.get(connect).headers["Location"]
    assert "include_granted_scopes=true" in location and "drive.readonly" in location
    assert client.get(path_of(fake.approve(location))).headers["Location"] == "/account"
    with app.test_request_context():
        assert module.DRIVE in GoogleFlow.state(app).extension.required_scopes


def test_workspace_domain_restriction(fake, tmp_path):
    settings = load_example("workspace")
    fake.add_account("alice@example.com", hosted_domain="example.com")
    from flask_google_flow import GoogleFlow

    app = Flask(__name__)
    app.config.from_object(settings)
    app.config.update(_config(fake, tmp_path))
    GoogleFlow(app)
    start = app.test_client().get("/authorize").headers["Location"]
    assert "hd=example.com" in start
    assert sign_in(app.test_client(), fake, account="alice@example.com").status_code == 302
    refused = sign_in(app.test_client(), fake)  # tester@example.com has no hd claim
    assert refused.status_code == 403


def test_proxy_fix_and_explicit_redirect_uri(fake, tmp_path):
    module = load_example("proxy_app")
    public = "https://app.example.com/oauth2callback"
    app = module.create_app(_config(fake, tmp_path, redirect_uris=[public, CALLBACK]))
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example.com"}
    location = app.test_client().get("/authorize", headers=headers).headers["Location"]
    assert "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth2callback" in location

    config = _config(fake, tmp_path / "2", redirect_uris=[public], **module.EXPLICIT)
    config["GOOGLE_CLIENT_CONFIG"]["web"].pop("redirect_uris")
    app = module.create_app(config)
    location = app.test_client().get("/authorize").headers["Location"]
    assert "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth2callback" in location


def test_mounting_under_a_prefix_inside_a_blueprint_and_on_several_apps(fake, tmp_path):
    module = load_example("mounting")
    prefixed = module.create_app(
        _config(fake, tmp_path / "a", redirect_uris=["http://localhost/auth/oauth2callback"])
    )
    nested = module.create_app(
        _config(
            fake, tmp_path / "b", redirect_uris=["http://localhost/account/google/oauth2callback"]
        ),
        nested=True,
    )
    assert sign_in(prefixed.test_client(), fake, "/auth/authorize").status_code == 302
    with nested.test_request_context():
        assert url_for("account.google_flow.authorize") == "/account/google/authorize"
    assert sign_in(nested.test_client(), fake, "/account/google/authorize").status_code == 302


def test_installed_app_json_roundtrip_is_what_database_store_saves(fake):
    # credentials.to_json() (what save() writes) loads back with from_authorized_user_info.
    from google.oauth2.credentials import Credentials

    data = json.loads(
        Credentials("t", refresh_token="r", client_id="c", client_secret="s").to_json()
    )
    assert Credentials.from_authorized_user_info(data).refresh_token == "r"


def test_the_cli_command_of_the_installed_apps_guide_parses():
    from flask_google_flow.cli import build_parser

    args = build_parser().parse_args(
        [
            "--client-secrets",
            "client_secret.json",
            "--scope",
            "openid",
            "--scope",
            "https://www.googleapis.com/auth/drive.readonly",
            "--headless",
        ]
    )
    assert args.headless and args.scope[1].endswith("drive.readonly")


def test_migration_client_config_is_accepted(tmp_path):
    from flask_google_flow.core.client_secrets import validate_client_config

    config = {
        "web": {
            "client_id": "id",
            "client_secret": "secret",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    }
    assert validate_client_config(config)[0] == "web"


def test_gsi_guide_button_one_tap_and_api_access_afterwards(fake, tmp_path):
    import re

    module = load_example("gsi_sign_in")
    app = module.create_app(_config(fake, tmp_path))
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    assert page.count('id="g_id_onload"') == 1 and 'data-theme="filled_blue"' in page
    nonce = re.search(r'data-nonce="([^"]+)"', page).group(1)
    client.set_cookie("g_csrf_token", "t")
    response = client.post(
        "/gsi",
        data={"credential": fake.gsi_credential(nonce=nonce), "g_csrf_token": "t"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302
    sub = fake.default_account.sub
    assert module.users[sub]["credentials"] is None
    assert "Hello Test User" in client.get("/").get_data(as_text=True)
    location = client.get("/calendar").headers["Location"]
    assert f"login_hint={sub}" in location
    assert sign_in(client, fake, start=location).status_code == 302
    assert module.users[sub]["credentials"].refresh_token
    assert client.get("/calendar").get_data(as_text=True) == "your calendar..."
