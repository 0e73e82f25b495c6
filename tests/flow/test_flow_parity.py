"""API parity with google_auth_oauthlib 1.5.0 (expected signatures written down here).

We do not install google-auth-oauthlib; the expectations below were derived
from reading its source. Extra parameters are allowed only as keyword-only
parameters with defaults, so every call written for the reference still binds.
"""

from __future__ import annotations

import inspect

import pytest
from flow_support import SCOPES, TOKEN_URI, dump, make_config, token_body

from flask_google_flow import cli, exceptions, flow, helpers, interactive

E = inspect.Parameter.empty
POK = inspect.Parameter.POSITIONAL_OR_KEYWORD
VAR_KW = inspect.Parameter.VAR_KEYWORD
KW_ONLY = inspect.Parameter.KEYWORD_ONLY

_PROMPT = "Please visit this URL to authorize this application: {url}"
_SUCCESS = "The authentication flow has completed. You may close this window."

# name -> list of (parameter name, kind, default)
EXPECTED = {
    flow.Flow.__init__: [
        ("self", POK, E),
        ("oauth2session", POK, E),
        ("client_type", POK, E),
        ("client_config", POK, E),
        ("redirect_uri", POK, None),
        ("code_verifier", POK, None),
        ("autogenerate_code_verifier", POK, True),
    ],
    flow.Flow.from_client_config: [
        ("client_config", POK, E),
        ("scopes", POK, E),
        ("kwargs", VAR_KW, E),
    ],
    flow.Flow.from_client_secrets_file: [
        ("client_secrets_file", POK, E),
        ("scopes", POK, E),
        ("kwargs", VAR_KW, E),
    ],
    flow.Flow.authorization_url: [("self", POK, E), ("kwargs", VAR_KW, E)],
    flow.Flow.fetch_token: [("self", POK, E), ("kwargs", VAR_KW, E)],
    flow.Flow.authorized_session: [("self", POK, E)],
    flow.InstalledAppFlow.run_local_server: [
        ("self", POK, E),
        ("host", POK, "localhost"),
        ("bind_addr", POK, None),
        ("port", POK, 8080),
        ("authorization_prompt_message", POK, _PROMPT),
        ("success_message", POK, _SUCCESS),
        ("open_browser", POK, True),
        ("redirect_uri_trailing_slash", POK, True),
        ("timeout_seconds", POK, None),
        ("token_audience", POK, None),
        ("browser", POK, None),
        ("kwargs", VAR_KW, E),
    ],
    helpers.session_from_client_config: [
        ("client_config", POK, E),
        ("scopes", POK, E),
        ("kwargs", VAR_KW, E),
    ],
    helpers.session_from_client_secrets_file: [
        ("client_secrets_file", POK, E),
        ("scopes", POK, E),
        ("kwargs", VAR_KW, E),
    ],
    helpers.credentials_from_session: [("session", POK, E), ("client_config", POK, None)],
    interactive.is_port_open: [("port", POK, E)],
    interactive.find_open_port: [("start", POK, 8080), ("stop", POK, None)],
    interactive.get_user_credentials: [
        ("scopes", POK, E),
        ("client_id", POK, E),
        ("client_secret", POK, E),
        ("minimum_port", POK, 8080),
        ("maximum_port", POK, None),
    ],
}


def describe(func):
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


@pytest.mark.parametrize("func", list(EXPECTED), ids=lambda f: f.__qualname__)
def test_signature(func):
    actual = describe(func)
    expected = EXPECTED[func]
    # The reference's parameters, in order, same kinds and defaults ...
    positional = [p for p in actual if p[1] is not KW_ONLY]
    assert positional == expected
    # ... and anything extra is keyword-only with a default.
    for name, kind, default in actual:
        if kind is KW_ONLY:
            assert default is not E, name


def test_extra_keyword_only_options():
    params = inspect.signature(flow.Flow.__init__).parameters
    assert params["allow_insecure_http"].default is False
    assert params["timeout"].default == flow.DEFAULT_TIMEOUT == 10.0


def test_public_names_and_module_attributes():
    for name in ("Flow", "InstalledAppFlow", "WSGITimeoutError", "webbrowser", "wsgiref"):
        assert hasattr(flow, name), name
    assert issubclass(flow.WSGITimeoutError, AttributeError)
    assert flow.WSGITimeoutError is exceptions.LocalServerTimeoutError
    assert issubclass(flow.InstalledAppFlow, flow.Flow)
    assert isinstance(flow.Flow.redirect_uri, property)
    assert isinstance(flow.Flow.credentials, property)
    assert interactive.LOCALHOST == "localhost" and interactive.DEFAULT_PORTS_TO_TRY == 100
    assert flow.InstalledAppFlow._DEFAULT_AUTH_PROMPT_MESSAGE == _PROMPT
    assert flow.InstalledAppFlow._DEFAULT_WEB_SUCCESS_MESSAGE == _SUCCESS
    assert callable(cli.main)


def test_classmethods_return_subclass_instances(tmp_path):
    path = tmp_path / "c.json"
    dump(path, make_config("installed"))
    made = flow.InstalledAppFlow.from_client_secrets_file(str(path), SCOPES)
    assert type(made) is flow.InstalledAppFlow


def test_fetch_token_returns_mapping_like_reference(mocked):
    made = flow.Flow.from_client_config(make_config(), SCOPES, redirect_uri="https://a.example/cb")
    mocked.post(TOKEN_URI, json=token_body())
    token = made.fetch_token(code="c")
    assert isinstance(token, dict)
    assert token["expires_at"] > token["expires_in"]
    assert token["scope"] == SCOPES


def test_reference_exception_types_still_catch():
    """except clauses written for the reference keep working."""
    import oauthlib.oauth2.rfc6749.errors as oauthlib_errors
    import requests

    assert issubclass(exceptions.OAuthlibStateMismatchError, oauthlib_errors.MismatchingStateError)
    assert issubclass(exceptions.OAuthlibInsecureTransportError, oauthlib_errors.OAuth2Error)
    assert issubclass(exceptions.OAuthlibInvalidGrantError, oauthlib_errors.InvalidGrantError)
    assert issubclass(exceptions.ProviderRequestTimeoutError, requests.Timeout)
    assert issubclass(exceptions.ProviderConnectionError, requests.ConnectionError)
    assert issubclass(exceptions.LocalServerError, OSError)
    assert issubclass(exceptions.ClientSecretsError, ValueError)
