"""Each option of flask_google_flow/config.py OPTIONS, set through its config key,
changes what the app does (the suite only checked most of them parse)."""

from __future__ import annotations

import json

import pytest
from flask import url_for

from flask_google_flow import GoogleFlow
from flask_google_flow.exceptions import ClientSecretsError
from flask_google_flow.testing import FakeClock
from tests.sign_in_helpers import CALLBACK, callback_path, query_of, sign_in, start

from .conftest import post

# -- ID token clock skew ---------------------------------------------------------------


@pytest.mark.parametrize(("skew", "status"), [(None, 302), ("10", 401), ("120", 302)])
def test_clock_skew_decides_whether_a_just_expired_id_token_passes(
    make_app, fake, clock, stored, skew, status
):
    # The app's clock runs 30 s past the ID token's exp (exp = iat + 3600).
    app_clock = FakeClock(clock() + 3600 + 30)
    config = {} if skew is None else {"GOOGLE_FLOW_CLOCK_SKEW": skew}
    app = make_app(
        extension=GoogleFlow(clock=app_clock, store=lambda c, i: stored.append((c, i))),
        config=config,
    )
    response = sign_in(app.test_client(), fake)
    assert response.status_code == status
    assert len(stored) == (1 if status == 302 else 0)


# -- refresh leeway ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("leeway", "seconds_left", "refreshed"),
    [("0", 30, False), ("300", 200, True), ("300", 400, False)],
)
def test_refresh_leeway_decides_when_a_token_is_refreshed_early(
    make_app, fake, clock, leeway, seconds_left, refreshed
):
    client = make_app(config={"GOOGLE_FLOW_REFRESH_LEEWAY": leeway}).test_client()
    assert sign_in(client, fake).status_code == 302
    before = client.get("/me").get_json()["token"]
    clock.advance(3599 - seconds_left)
    tokens_before = fake.request_counts["token"]
    assert client.get("/api").get_json()["status"] == 200
    assert (fake.request_counts["token"] > tokens_before) is refreshed
    assert (client.get("/me").get_json()["token"] != before) is refreshed


# -- blueprint, prefix, default next, max pending, prompt, session dir -----------------


def test_blueprint_name_config_key_renames_the_endpoints(make_app, fake, stored):
    app = make_app(config={"GOOGLE_FLOW_BLUEPRINT_NAME": "gauth"})
    with app.test_request_context():
        assert url_for("gauth.authorize") == "/authorize"
        assert url_for("gauth.oauth2callback") == "/oauth2callback"
    assert "google_flow.authorize" not in app.view_functions
    assert sign_in(app.test_client(), fake).status_code == 302
    assert len(stored) == 1


def test_url_prefix_config_key(make_app, fake, stored):
    fake.register_redirect_uri("http://localhost/auth/oauth2callback")
    app = make_app(config={"GOOGLE_FLOW_URL_PREFIX": "/auth"})
    client = app.test_client()
    assert client.get("/authorize").status_code == 404
    response = sign_in(client, fake, path="/auth/authorize")
    assert response.status_code == 302
    assert len(stored) == 1


def test_default_next_config_key(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_DEFAULT_NEXT": "/welcome"})
    assert sign_in(app.test_client(), fake).headers["Location"] == "/welcome"
    assert sign_in(app.test_client(), fake, next="//evil.example").headers["Location"] == (
        "/welcome"
    )


def test_max_pending_config_key(make_app, fake):
    client = make_app(config={"GOOGLE_FLOW_MAX_PENDING": "2"}).test_client()
    first, _second, third = (start(client) for _ in range(3))
    assert client.get(callback_path(fake.approve(first))).status_code == 400
    assert client.get(callback_path(fake.approve(third))).status_code == 302


def test_pending_ttl_config_key(make_app, fake, clock):
    client = make_app(config={"GOOGLE_FLOW_PENDING_TTL": "30"}).test_client()
    location = start(client)
    callback = callback_path(fake.approve(location))
    clock.advance(31)  # the code (60 s) is still valid; the pending flow is not
    assert client.get(callback).status_code == 400
    assert fake.request_counts["token"] == 0


def test_prompt_and_access_type_config_keys(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_PROMPT": "select_account", "GOOGLE_FLOW_ACCESS_TYPE": ""})
    q = query_of(start(app.test_client()))
    assert q["prompt"] == "select_account"
    assert "access_type" not in q
    # a prompt given to /authorize wins over the configured default
    assert query_of(start(app.test_client(), prompt="consent"))["prompt"] == "consent"


def test_scopes_config_key_as_a_string(make_app, fake, stored):
    app = make_app(config={"GOOGLE_SCOPES": "openid email"})
    client = app.test_client()
    location = start(client)
    assert query_of(location)["scope"] == "openid email"
    assert client.get(callback_path(fake.approve(location))).status_code == 302
    assert "profile" not in stored[-1][0].granted_scopes


def test_scopes_without_openid_skip_id_token_verification(make_app, fake, stored):
    app = make_app(config={"GOOGLE_SCOPES": ["https://www.googleapis.com/auth/drive.readonly"]})
    fake.fail("certs", "server_error", times=None)  # would fail any ID-token check
    response = sign_in(app.test_client(), fake)
    assert response.status_code == 302
    assert stored[-1][1] == {}
    assert fake.request_counts["certs"] == 0


def test_session_dir_config_key(make_app, fake, tmp_path):
    directory = tmp_path / "my-sessions"
    app = make_app(config={"GOOGLE_FLOW_SESSION_DIR": str(directory)})
    start(app.test_client())
    assert directory.is_dir() and any(directory.iterdir())
    assert not (tmp_path / "instance" / "google_flow_sessions").exists()


def test_revoke_status_param_config_key_renames_the_parameter(make_app, fake):
    client = make_app(config={"GOOGLE_FLOW_REVOKE_STATUS_PARAM": "bye"}).test_client()
    assert sign_in(client, fake).status_code == 302
    assert post(client, "/revoke").headers["Location"] == "/?bye=revoked"


# -- provider endpoint overrides ---------------------------------------------------------


def test_authorization_endpoint_override(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_AUTHORIZATION_ENDPOINT": "https://idp.example/auth"})
    assert start(app.test_client()).startswith("https://idp.example/auth?")


def test_token_endpoint_override_is_used_for_the_code_exchange(make_app, fake, stored):
    app = make_app(config={"GOOGLE_FLOW_TOKEN_ENDPOINT": "https://idp.example/token"})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = sign_in(app.test_client(), fake)
    assert response.status_code == 502  # not mocked: connection refused by responses
    assert fake.request_counts["token"] == 0
    assert stored == []


def test_jwks_uri_override_is_used_for_the_certs(make_app, fake, stored):
    app = make_app(config={"GOOGLE_FLOW_JWKS_URI": "https://idp.example/certs"})
    response = sign_in(app.test_client(), fake)
    assert response.status_code == 502
    assert fake.request_counts["certs"] == 0
    assert stored == []


def test_revocation_endpoint_override_is_used_by_revoke(make_app, fake):
    client = make_app(
        config={"GOOGLE_FLOW_REVOCATION_ENDPOINT": "https://idp.example/revoke"}
    ).test_client()
    assert sign_in(client, fake).status_code == 302
    response = post(client, "/revoke")
    assert response.headers["Location"] == "/?google_flow_revoke=failed"
    assert fake.request_counts["revoke"] == 0


def test_issuer_override_refuses_the_other_issuers_callback(make_app, fake, stored):
    app = make_app(config={"GOOGLE_FLOW_ISSUER": "https://login.example"})
    response = sign_in(app.test_client(), fake)
    assert response.status_code == 400
    assert fake.request_counts["token"] == 0
    assert stored == []


def test_userinfo_endpoint_override_reaches_the_metadata(make_app):
    app = make_app(config={"GOOGLE_FLOW_USERINFO_ENDPOINT": "https://idp.example/me"})
    assert GoogleFlow.state(app).metadata.userinfo_endpoint == "https://idp.example/me"


def test_plain_http_provider_endpoint_off_loopback_is_refused(make_app):
    with pytest.raises(ValueError, match="https"):
        make_app(config={"GOOGLE_FLOW_TOKEN_ENDPOINT": "http://idp.example/token"})


# -- client secrets given to init_app in each malformed shape ----------------------------


def _config(fake, **changes):
    config = fake.client_config([CALLBACK])
    for key, value in changes.items():
        if value is None:
            del config["web"][key]
        else:
            config["web"][key] = value
    return config


@pytest.mark.parametrize("key", ["client_id", "auth_uri", "token_uri"])
def test_client_config_missing_a_required_key(make_app, fake, key):
    with pytest.raises(ClientSecretsError, match=key):
        make_app(client_config=_config(fake, **{key: None}))


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"other": {"client_id": "x"}}, "web or installed"),
        ({"web": "not an object"}, "'web' must be a JSON object"),
        ({"web": {"client_id": ""}}, "missing required key"),
        ('{"web": ', "GOOGLE_CLIENT_CONFIG"),
        ("[1, 2]", "GOOGLE_CLIENT_CONFIG"),
    ],
)
def test_client_config_malformed_shapes(make_app, document, fragment):
    with pytest.raises(ValueError, match=fragment):
        make_app(client_config=document)


def test_client_config_secret_never_in_the_message(make_app, fake):
    config = _config(fake, token_uri=None)
    secret = config["web"]["client_secret"]
    with pytest.raises(ClientSecretsError) as info:
        make_app(client_config=config)
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"installed": {"client_id": "x"}}), "missing required key"),
    ],
)
def test_client_secrets_file_malformed_names_the_file(make_app, tmp_path, content, fragment):
    path = tmp_path / "my_client_secret.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=fragment) as info:
        make_app(config={"GOOGLE_CLIENT_CONFIG": None, "GOOGLE_CLIENT_SECRETS_FILE": str(path)})
    assert "my_client_secret.json" in str(info.value)


def test_client_secrets_file_that_is_a_directory(make_app, tmp_path):
    with pytest.raises(ValueError, match="directory"):
        make_app(config={"GOOGLE_CLIENT_CONFIG": None, "GOOGLE_CLIENT_SECRETS_FILE": str(tmp_path)})
