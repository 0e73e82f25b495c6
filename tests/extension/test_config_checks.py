"""Configuration mistakes fail (or warn) at ``init_app``, naming the setting."""

from __future__ import annotations

import warnings

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.checks import ConfigurationWarning, unknown_keys
from tests.sign_in_helpers import CALLBACK, build_app


def _build(fake, clock, tmp_path, **config):
    return build_app(fake, clock, tmp_path / "instance", config=config)[0]


@pytest.mark.parametrize("value", [[], "", " , "])
def test_empty_scopes_fail_naming_the_key(fake, clock, tmp_path, value):
    with pytest.raises(ValueError, match="GOOGLE_SCOPES is empty"):
        _build(fake, clock, tmp_path, GOOGLE_SCOPES=value)


def test_empty_scopes_as_a_constructor_argument_fail_too(fake, clock, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]))
    with pytest.raises(ValueError, match="GOOGLE_SCOPES"):
        GoogleFlow(app, scopes=[])


@pytest.mark.parametrize(
    ("key", "closest"),
    [
        ("GOOGLE_SCOPE", "GOOGLE_SCOPES"),
        ("GOOGLE_CLIENT_SECRET_FILE", "GOOGLE_CLIENT_SECRETS_FILE"),
        ("GOOGLE_FLOW_REDIRECT_URL", "GOOGLE_FLOW_REDIRECT_URI"),
        ("GOOGLE_FLOW_HOSTED_DOMIAN", "GOOGLE_FLOW_HOSTED_DOMAIN"),
        ("GOOGLE_REDIRECT_URI", "GOOGLE_FLOW_REDIRECT_URI"),
    ],
)
def test_a_misspelt_key_warns_with_the_closest_option(fake, clock, tmp_path, key, closest):
    with pytest.warns(ConfigurationWarning, match=f"{key} is not a setting.*{closest}"):
        _build(fake, clock, tmp_path, **{key: "x"})


def test_an_unknown_key_of_our_prefix_warns_even_without_a_close_option():
    assert unknown_keys(["GOOGLE_FLOW_ZZZZZZZZZZZZZZZZZZZZ"]) == [
        ("GOOGLE_FLOW_ZZZZZZZZZZZZZZZZZZZZ", None)
    ]


@pytest.mark.parametrize(
    "key",
    [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_API_KEY",
        "GOOGLE_MAPS_API_KEY",
        "GOOGLE_ANALYTICS_ID",
        "GOOGLE_OAUTH_CLIENT_ID",
    ],
)
def test_other_libraries_google_keys_do_not_warn(fake, clock, tmp_path, key):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigurationWarning)
        _build(fake, clock, tmp_path, **{key: "x"})


def test_known_keys_do_not_warn(fake, clock, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigurationWarning)
        _build(fake, clock, tmp_path, GOOGLE_SCOPES=["openid"], GOOGLE_FLOW_PENDING_TTL=60)


def test_a_redirect_uri_not_registered_fails(fake, clock, tmp_path):
    with pytest.raises(ValueError, match="GOOGLE_FLOW_REDIRECT_URI is not one of") as caught:
        _build(fake, clock, tmp_path, GOOGLE_FLOW_REDIRECT_URI="https://app.example/cb")
    assert CALLBACK in str(caught.value)  # says what is registered


def test_a_plain_http_redirect_uri_off_loopback_fails(fake, clock, tmp_path):
    uri = "http://app.example/oauth2callback"
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_CLIENT_CONFIG=fake.client_config([uri]),
        GOOGLE_FLOW_REDIRECT_URI=uri,
    )
    with pytest.raises(ValueError, match=r"GOOGLE_FLOW_REDIRECT_URI: .*https"):
        GoogleFlow().init_app(app)


def test_a_registered_redirect_uri_is_accepted(fake, clock, tmp_path):
    app = _build(fake, clock, tmp_path, GOOGLE_FLOW_REDIRECT_URI=CALLBACK)
    assert app.extensions["google_flow"].settings.redirect_uri == CALLBACK


@pytest.mark.parametrize("value", ["Strict", "strict"])
def test_samesite_strict_fails(fake, clock, tmp_path, value):
    with pytest.raises(ValueError, match="SESSION_COOKIE_SAMESITE"):
        _build(fake, clock, tmp_path, SESSION_COOKIE_SAMESITE=value)


def test_samesite_lax_is_fine(fake, clock, tmp_path):
    _build(fake, clock, tmp_path, SESSION_COOKIE_SAMESITE="Lax")


# -- accessors on an app init_app was never called for -------------------------


def test_user_and_credentials_on_an_app_without_init_app_raise(fake, clock, tmp_path):
    google_flow = GoogleFlow()
    _, extension = build_app(fake, clock, tmp_path / "a", extension=google_flow)
    other = Flask("other")
    with other.test_request_context("/"):
        with pytest.raises(RuntimeError, match="init_app"):
            _ = extension.user
        with pytest.raises(RuntimeError, match="init_app"):
            _ = extension.credentials


def test_user_outside_a_request_is_still_none(fake, clock, tmp_path):
    _, extension = build_app(fake, clock, tmp_path / "a")
    assert extension.user is None


def test_authorized_session_outside_a_request_says_what_it_needs(fake, clock, tmp_path):
    app, extension = build_app(fake, clock, tmp_path / "a")
    with app.app_context(), pytest.raises(RuntimeError, match="needs a request"):
        extension.authorized_session()
