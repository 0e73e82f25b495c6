"""Endpoint precedence: settings > discovery > client secrets' auth_uri/token_uri > Google's.

And the URL rule applied at ``init_app`` to every URL the app configures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.core.provider import GOOGLE
from flask_google_flow.exceptions import InsecureTransportError
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import CALLBACK, sign_in, start

IDP = "https://idp.test"


@pytest.fixture
def idp(clock: FakeClock) -> Iterator[FakeGoogle]:
    """A test identity provider under another host than Google's."""
    google = FakeGoogle(clock=clock, base_url=IDP)
    with google.intercept():
        yield google


def _app(tmp_path, client_config, **config) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=client_config, **config)
    return app


def _init(app: Flask, clock: FakeClock, stored: list | None = None) -> Flask:
    stored = stored if stored is not None else []
    GoogleFlow(app, clock=clock, store=lambda credentials, id_info: stored.append(credentials))
    return app


def _keys_of(idp: FakeGoogle) -> dict[str, str]:
    """The settings that make ID tokens of *idp* verifiable (its issuer and keys)."""
    return {"GOOGLE_FLOW_ISSUER": idp.issuer, "GOOGLE_FLOW_JWKS_URI": idp.endpoints.jwks}


def test_client_secrets_auth_uri_and_token_uri_are_used(idp, clock, tmp_path):
    stored: list = []
    config = idp.client_config([CALLBACK])
    app = _init(_app(tmp_path, config, **_keys_of(idp)), clock, stored)
    client = app.test_client()
    assert start(client).startswith(config["web"]["auth_uri"] + "?")
    # The code goes to the client secrets' token_uri (the fake at idp.test
    # answers there; Google's token endpoint is not intercepted here).
    assert sign_in(client, idp).status_code == 302
    assert idp.request_counts["token"] == 1
    [credentials] = stored
    assert credentials.token_uri == config["web"]["token_uri"]
    # Level 4: what the client secrets do not name stays Google's.
    state = app.extensions["google_flow"]
    assert state.metadata.revocation_endpoint == GOOGLE.revocation_endpoint


def test_explicit_settings_beat_the_client_secrets(idp, clock, tmp_path):
    config = idp.client_config([CALLBACK])
    config["web"]["auth_uri"] = "https://ignored.example/auth"
    config["web"]["token_uri"] = "https://ignored.example/token"
    app = _init(
        _app(
            tmp_path,
            config,
            **_keys_of(idp),
            GOOGLE_FLOW_AUTHORIZATION_ENDPOINT=idp.endpoints.authorization,
            GOOGLE_FLOW_TOKEN_ENDPOINT=idp.endpoints.token,
        ),
        clock,
    )
    client = app.test_client()
    assert start(client).startswith(idp.endpoints.authorization + "?")
    assert sign_in(client, idp).status_code == 302


def test_discovery_beats_the_client_secrets(idp, clock, tmp_path):
    config = idp.client_config([CALLBACK])
    config["web"]["auth_uri"] = "https://ignored.example/auth"
    config["web"]["token_uri"] = "https://ignored.example/token"
    app = _init(_app(tmp_path, config, GOOGLE_FLOW_DISCOVERY_URL=idp.endpoints.discovery), clock)
    client = app.test_client()
    assert start(client).startswith(idp.endpoints.authorization + "?")
    assert sign_in(client, idp).status_code == 302


def test_settings_beat_discovery(idp, clock, tmp_path):
    app = _init(
        _app(
            tmp_path,
            idp.client_config([CALLBACK]),
            GOOGLE_FLOW_DISCOVERY_URL=idp.endpoints.discovery,
            GOOGLE_FLOW_AUTHORIZATION_ENDPOINT="https://login.example/auth",
        ),
        clock,
    )
    assert start(app.test_client()).startswith("https://login.example/auth?")


def test_google_client_secrets_keep_google_and_log_nothing(fake, clock, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    app = _init(_app(tmp_path, fake.client_config([CALLBACK])), clock)
    assert start(app.test_client()).startswith(fake.endpoints.authorization + "?")
    assert not [r for r in caplog.records if "auth_uri" in r.getMessage()]


def test_another_provider_without_issuer_settings_is_logged(idp, clock, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    _init(_app(tmp_path, idp.client_config([CALLBACK])), clock)
    [record] = [r for r in caplog.records if "auth_uri" in r.getMessage()]
    assert "idp.test" in record.getMessage() and "GOOGLE_FLOW_ISSUER" in record.getMessage()


# -- the URL rule at init_app -------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "GOOGLE_FLOW_AUTHORIZATION_ENDPOINT",
        "GOOGLE_FLOW_TOKEN_ENDPOINT",
        "GOOGLE_FLOW_REVOCATION_ENDPOINT",
        "GOOGLE_FLOW_USERINFO_ENDPOINT",
        "GOOGLE_FLOW_JWKS_URI",
        "GOOGLE_FLOW_DISCOVERY_URL",
        "GOOGLE_FLOW_REDIRECT_URI",
    ],
)
def test_a_plain_http_setting_is_refused_at_init_app_naming_it(fake, clock, tmp_path, key):
    app = _app(tmp_path, fake.client_config([CALLBACK]), **{key: "http://login.example/x"})
    with pytest.raises(InsecureTransportError, match=key) as info:
        _init(app, clock)
    assert "login.example" in str(info.value)
    assert "google_flow" not in app.extensions and "google_flow" not in app.blueprints


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auth_uri", "http://login.example/auth"),
        ("token_uri", "http://login.example/token"),
        ("redirect_uris", [CALLBACK, "http://app.example/oauth2callback"]),
        ("token_uri", "ftp://login.example/token"),
    ],
)
def test_a_plain_http_client_secrets_url_is_refused_at_init_app(
    fake, clock, tmp_path, field, value
):
    config = fake.client_config([CALLBACK])
    config["web"][field] = value
    with pytest.raises(InsecureTransportError, match=f"client secrets '{field}'"):
        _init(_app(tmp_path, config), clock)


def test_loopback_http_is_allowed(fake, clock, tmp_path):
    config = fake.client_config([CALLBACK])
    config["web"]["auth_uri"] = "http://127.0.0.1:9/auth"
    config["web"]["redirect_uris"] = ["http://localhost:5000/oauth2callback"]
    app = _app(tmp_path, config, GOOGLE_FLOW_JWKS_URI="http://[::1]:9/certs")
    _init(app, clock)  # no error
    assert app.extensions["google_flow"].metadata.authorization_endpoint == (
        "http://127.0.0.1:9/auth"
    )


@pytest.mark.parametrize("where", ["client secrets", "setting"])
def test_plain_http_token_endpoint_is_refused_even_on_loopback(fake, clock, tmp_path, where):
    """requests-oauthlib sends no token request over plain http: say so at init_app."""
    config = fake.client_config([CALLBACK])
    extra = {}
    if where == "client secrets":
        config["web"]["token_uri"] = "http://127.0.0.1:9/token"
        named = "client secrets 'token_uri'"
    else:
        extra["GOOGLE_FLOW_TOKEN_ENDPOINT"] = "http://localhost:9/token"
        named = "GOOGLE_FLOW_TOKEN_ENDPOINT"
    with pytest.raises(InsecureTransportError, match=named) as caught:
        _init(_app(tmp_path, config, **extra), clock)
    assert "GOOGLE_FLOW_CA_BUNDLE" in str(caught.value)


def test_discovery_is_not_fetched_at_init_app(idp, clock, tmp_path):
    """Discovery is the provider's word: its endpoints are checked when fetched.

    A plain-http endpoint in the document is a 502 at first use
    (tests/audit/test_provider_failures.py), not an init_app error.
    """
    app = _app(
        tmp_path, idp.client_config([CALLBACK]), GOOGLE_FLOW_DISCOVERY_URL=idp.endpoints.discovery
    )
    _init(app, clock)
    assert idp.request_counts["discovery"] == 0  # nothing fetched at init_app
