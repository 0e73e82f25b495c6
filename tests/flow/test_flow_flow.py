"""Flow: authorization URL, code exchange, token-response handling, credentials."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import os
import re
import warnings
from urllib.parse import parse_qs, urlsplit

import google.auth.transport.requests
import google.oauth2.credentials
import oauthlib.oauth2.rfc6749.errors as oauthlib_errors
import pytest
import requests
import requests.adapters
from flow_support import AUTH_URI, CLIENT_SECRET, SCOPES, TOKEN_URI, make_config, token_body
from responses import matchers

from flask_google_flow import exceptions
from flask_google_flow.flow import DEFAULT_TIMEOUT, Flow, InstalledAppFlow, is_loopback_host

REDIRECT = "https://app.example.com/oauth2callback"
SECRETS = (CLIENT_SECRET, "THE-CODE", "ACCESS-tok-123", "REFRESH-tok-456")


def make_flow(**kwargs):
    kwargs.setdefault("redirect_uri", REDIRECT)
    return Flow.from_client_config(make_config(), SCOPES, **kwargs)


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def form(request):
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def assert_no_secret(exc, *extra):
    text = str(exc) + repr(exc.args)
    for secret in (*SECRETS, *extra):
        assert secret not in text


# -- construction -------------------------------------------------------------


def test_from_client_config_sets_public_attributes():
    flow = make_flow(code_verifier="v" * 43, autogenerate_code_verifier=False)
    assert flow.client_type == "web"
    assert flow.client_config["client_id"] == "cid.apps.googleusercontent.com"
    assert flow.code_verifier == "v" * 43
    assert flow.autogenerate_code_verifier is False
    assert flow.oauth2session.scope == SCOPES
    assert flow.redirect_uri == REDIRECT == flow.oauth2session.redirect_uri
    assert flow.timeout == DEFAULT_TIMEOUT == 10.0
    assert flow.allow_insecure_http is False


def test_redirect_uri_passes_through_to_session():
    flow = make_flow()
    flow.redirect_uri = "https://other.example/cb"
    assert flow.oauth2session.redirect_uri == "https://other.example/cb"
    flow.oauth2session.redirect_uri = "https://third.example/cb"
    assert flow.redirect_uri == "https://third.example/cb"


def test_installed_app_flow_from_client_config():
    flow = InstalledAppFlow.from_client_config(make_config("installed"), SCOPES)
    assert isinstance(flow, InstalledAppFlow)
    assert flow.client_type == "installed"
    assert flow.redirect_uri is None


# -- authorization_url ----------------------------------------------------------


def test_authorization_url_defaults():
    flow = make_flow()
    url, state = flow.authorization_url()
    assert url.startswith(AUTH_URI + "?")
    params = query(url)
    assert params.pop("state") == state and len(state) >= 20
    challenge = params.pop("code_challenge")
    assert params == {
        "response_type": "code",
        "client_id": "cid.apps.googleusercontent.com",
        "redirect_uri": REDIRECT,
        "scope": " ".join(SCOPES),
        "access_type": "offline",
        "code_challenge_method": "S256",
    }
    verifier = flow.code_verifier
    assert len(verifier) == 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{128}", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.decode().rstrip("=")


def test_verifiers_are_random():
    a, b = make_flow(), make_flow()
    a.authorization_url()
    b.authorization_url()
    assert a.code_verifier != b.code_verifier


def test_authorization_url_caller_values_win_and_extra_params_pass():
    flow = make_flow()
    url, state = flow.authorization_url(
        state="my-state",
        access_type="online",
        prompt="consent",
        login_hint="a@b.c",
        hd="example.com",
        nonce="n-1",
        include_granted_scopes="true",
        ignored=None,
    )
    params = query(url)
    assert state == "my-state" == params["state"]
    assert params["access_type"] == "online"
    assert params["prompt"] == "consent" and params["hd"] == "example.com"
    assert params["login_hint"] == "a@b.c" and params["nonce"] == "n-1"
    assert params["include_granted_scopes"] == "true"
    assert "ignored" not in params
    with pytest.raises(exceptions.StateMismatchError):  # the given state is the one expected
        flow.fetch_token(authorization_response=REDIRECT + "?state=other&code=THE-CODE")


def test_no_pkce_when_disabled():
    flow = make_flow(autogenerate_code_verifier=False)
    params = query(flow.authorization_url()[0])
    assert "code_challenge" not in params and flow.code_verifier is None


def test_given_verifier_is_used():
    verifier = "a" * 64
    flow = make_flow(code_verifier=verifier)
    params = query(flow.authorization_url()[0])
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert params["code_challenge"] == expected.decode().rstrip("=")
    assert flow.code_verifier == verifier


@pytest.mark.parametrize("verifier", ["short", "a" * 129, "a" * 42 + " ", "ä" * 50])
def test_invalid_verifier_rejected(verifier):
    with pytest.raises(ValueError, match="RFC 7636") as info:
        make_flow(code_verifier=verifier).authorization_url()
    assert verifier not in str(info.value)


def test_auth_uri_with_existing_query():
    config = make_config(auth_uri=AUTH_URI + "?foo=bar")
    flow = Flow.from_client_config(config, SCOPES, redirect_uri=REDIRECT)
    url, _ = flow.authorization_url()
    assert url.startswith(AUTH_URI + "?foo=bar&response_type=code")


# -- transport security -----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost."],
)
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["", None, "example.com", "localhost.evil.com", "10.0.0.1", "0.0.0.0", "::"]
)
def test_not_loopback_hosts(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8080/",
        "http://127.0.0.1:5000/cb",
        "http://[::1]:9000/",
        REDIRECT,
        "com.example.app:/oauth2redirect",
    ],
)
def test_allowed_redirect_uris(uri):
    flow = make_flow(redirect_uri=uri)
    assert query(flow.authorization_url()[0])["redirect_uri"] == uri


@pytest.mark.parametrize(
    "uri", ["http://app.example.com/cb", "http://localhost.evil.com/", "http://10.1.2.3/cb"]
)
def test_http_redirect_to_non_loopback_refused(uri, mocked):
    flow = make_flow(redirect_uri=uri)  # accepted as a value, as by the reference...
    flow.redirect_uri = uri
    with pytest.raises(exceptions.InsecureTransportError, match="non-loopback") as info:
        flow.authorization_url()  # ...and refused when a request is built with it
    # code written for the reference catches oauthlib's class
    assert isinstance(info.value, oauthlib_errors.InsecureTransportError)
    with pytest.raises(exceptions.InsecureTransportError):
        flow.fetch_token(code="THE-CODE")
    # the session's own client applies the same rule to direct use of the session
    with pytest.raises(exceptions.InsecureTransportError, match="redirect URI"):
        flow.oauth2session.authorization_url(AUTH_URI)
    assert not mocked.calls


def test_sentinel_redirect_uri_is_accepted_as_a_value():
    sentinel = object()
    flow = make_flow(redirect_uri=sentinel)
    assert flow.redirect_uri is sentinel is flow.oauth2session.redirect_uri


def test_explicit_opt_in_allows_http_for_that_flow_only():
    flow = make_flow(redirect_uri="http://app.example.com/cb", allow_insecure_http=True)
    assert query(flow.authorization_url()[0])["redirect_uri"] == "http://app.example.com/cb"
    with pytest.raises(exceptions.InsecureTransportError):
        make_flow(redirect_uri="http://app.example.com/cb").authorization_url()
    assert not any(k.startswith("OAUTHLIB") for k in os.environ)


def test_http_endpoints_refused_unless_loopback(mocked):
    bad = Flow.from_client_config(
        make_config(auth_uri="http://accounts.example/auth", token_uri="http://t.example/token"),
        SCOPES,
        redirect_uri=REDIRECT,
    )
    with pytest.raises(exceptions.InsecureTransportError, match="authorization endpoint"):
        bad.authorization_url()
    with pytest.raises(exceptions.InsecureTransportError, match="token endpoint"):
        bad.fetch_token(code="THE-CODE")
    assert not mocked.calls

    # A fake provider's consent page on loopback over plain http is fine (no env var)...
    local = Flow.from_client_config(
        make_config(auth_uri="http://127.0.0.1:9999/auth", token_uri="http://127.0.0.1:9999/token"),
        SCOPES,
        redirect_uri=REDIRECT,
    )
    assert local.authorization_url()[0].startswith("http://127.0.0.1:9999/auth?")
    # ...but a token endpoint must be https: requests-oauthlib refuses it without the
    # process-wide switch, which this package never sets. The message says what to do.
    mocked.post("http://127.0.0.1:9999/token", json=token_body())
    with pytest.raises(exceptions.InsecureTransportError, match="must be https") as info:
        local.fetch_token(code="THE-CODE")
    assert "TLS" in str(info.value) and "OAUTHLIB_INSECURE_TRANSPORT" in str(info.value)
    assert isinstance(info.value, oauthlib_errors.InsecureTransportError)
    assert not mocked.calls
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_user_set_insecure_transport_keeps_the_loopback_rule(mocked, monkeypatch):
    """With the user's own OAUTHLIB_INSECURE_TRANSPORT, loopback http goes through."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    local = Flow.from_client_config(
        make_config(token_uri="http://127.0.0.1:9999/token"), SCOPES, redirect_uri=REDIRECT
    )
    mocked.post("http://127.0.0.1:9999/token", json=token_body())
    assert local.fetch_token(code="THE-CODE")["access_token"] == "ACCESS-tok-123"
    remote = Flow.from_client_config(
        make_config(token_uri="http://t.example/token"), SCOPES, redirect_uri=REDIRECT
    )
    with pytest.raises(exceptions.InsecureTransportError, match="non-loopback"):
        remote.fetch_token(code="THE-CODE")
    assert len(mocked.calls) == 1


def test_source_has_no_http_to_https_rewrite():
    import flask_google_flow

    root = os.path.dirname(flask_google_flow.__file__)
    for name in ("flow.py", "core/loopback.py", "helpers.py", "interactive.py", "cli.py"):
        with open(os.path.join(root, name), encoding="utf-8") as handle:
            source = handle.read()
        assert 'replace("http"' not in source
        assert "os.environ[" not in source and "putenv" not in source
        assert "environ.setdefault" not in source and "environ.update" not in source


# -- fetch_token: the request ------------------------------------------------------


def test_fetch_token_request(mocked):
    flow = make_flow()
    flow.authorization_url()
    mocked.post(TOKEN_URI, json=token_body())
    token = flow.fetch_token(code="THE-CODE")
    request = mocked.calls[0].request
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": "THE-CODE",
        "redirect_uri": REDIRECT,
        "code_verifier": flow.code_verifier,
    }
    expected = base64.b64encode(f"cid.apps.googleusercontent.com:{CLIENT_SECRET}".encode())
    assert request.headers["Authorization"] == "Basic " + expected.decode()
    assert request.headers["Accept"] == "application/json"
    assert token["access_token"] == "ACCESS-tok-123"
    assert flow.oauth2session.token is token
    assert flow.oauth2session.authorized


def test_fetch_token_client_secret_in_body(mocked):
    flow = make_flow(code_verifier="v" * 50)
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(code="THE-CODE", include_client_id=True, audience="aud-1", unused=None)
    request = mocked.calls[0].request
    body = form(request)
    assert body["client_secret"] == CLIENT_SECRET
    assert body["client_id"] == "cid.apps.googleusercontent.com"
    assert body["code_verifier"] == "v" * 50
    assert body["audience"] == "aud-1"
    assert "unused" not in body
    assert "Authorization" not in request.headers


def test_fetch_token_without_code():
    with pytest.raises(ValueError, match="code or authorization_response"):
        make_flow().fetch_token()


def test_default_and_explicit_timeout(monkeypatch, mocked):
    seen = []
    real = requests.Session.request

    def spy(self, method, url, **kwargs):
        seen.append(kwargs.get("timeout"))
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    mocked.post(TOKEN_URI, json=token_body())
    flow = make_flow()
    flow.fetch_token(code="THE-CODE")
    flow.fetch_token(code="THE-CODE", timeout=2.5)
    flow.timeout = (1, 4)
    flow.fetch_token(code="THE-CODE")
    assert seen == [10.0, 2.5, (1, 4)]
    assert make_flow(timeout=3).timeout == 3


def test_token_post_goes_through_mounted_adapter():
    """The Flask layer mounts a shared adapter on flow.oauth2session."""

    class Adapter(requests.adapters.HTTPAdapter):
        def __init__(self):
            super().__init__()
            self.sent = []

        def send(self, request, **kwargs):
            self.sent.append((request, kwargs))
            response = requests.Response()
            response.status_code = 200
            response._content = json.dumps(token_body()).encode()
            response.headers["Content-Type"] = "application/json"
            response.request = request
            response.url = request.url
            return response

    adapter = Adapter()
    flow = make_flow(code_verifier="v" * 43)
    flow.oauth2session.mount("https://", adapter)
    flow.fetch_token(code="THE-CODE", timeout=7)
    request, kwargs = adapter.sent[0]
    assert request.url == TOKEN_URI and request.method == "POST"
    assert kwargs["timeout"] == 7
    assert flow.credentials.token == "ACCESS-tok-123"


def test_compliance_hooks_are_honoured(mocked):
    flow = make_flow()
    mocked.post(TOKEN_URI, json=token_body(token_type="bearer-ish"))

    def fix_request(url, headers, kwargs):
        kwargs["data"]["extra"] = "1"
        return url, headers, kwargs

    def fix_response(response):
        response._content = json.dumps(token_body()).encode()
        return response

    flow.oauth2session.register_compliance_hook("access_token_request", fix_request)
    flow.oauth2session.register_compliance_hook("access_token_response", fix_response)
    flow.fetch_token(code="THE-CODE")
    assert form(mocked.calls[0].request)["extra"] == "1"


def test_no_secrets_logged(mocked, caplog):
    caplog.set_level(logging.DEBUG)
    flow = make_flow()
    flow.authorization_url()
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(code="THE-CODE")
    for secret in (*SECRETS, flow.code_verifier):
        assert secret not in caplog.text


# -- fetch_token: authorization_response -----------------------------------------------


def test_authorization_response_happy_path_over_loopback_http(mocked):
    flow = InstalledAppFlow.from_client_config(
        make_config("installed"), SCOPES, redirect_uri="http://127.0.0.1:8765/"
    )
    _, state = flow.authorization_url()
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(authorization_response=f"http://127.0.0.1:8765/?state={state}&code=THE-CODE")
    assert form(mocked.calls[0].request)["code"] == "THE-CODE"


def test_authorization_response_state_mismatch(mocked):
    flow = make_flow()
    flow.authorization_url()
    with pytest.raises(exceptions.StateMismatchError) as info:
        flow.fetch_token(authorization_response=REDIRECT + "?state=forged&code=THE-CODE")
    assert isinstance(info.value, oauthlib_errors.MismatchingStateError)
    assert isinstance(info.value, ValueError)
    assert_no_secret(info.value)
    assert not mocked.calls


def test_authorization_response_missing_state(mocked):
    flow = make_flow()
    flow.authorization_url()
    with pytest.raises(exceptions.StateMismatchError):
        flow.fetch_token(authorization_response=REDIRECT + "?code=THE-CODE")
    assert not mocked.calls


def test_forged_error_with_wrong_state_is_a_state_error():
    flow = make_flow()
    flow.authorization_url()
    with pytest.raises(exceptions.StateMismatchError):
        flow.fetch_token(authorization_response=REDIRECT + "?state=x&error=access_denied")


def test_state_from_constructor_is_checked(mocked):
    flow = make_flow(state="remembered")
    with pytest.raises(exceptions.StateMismatchError):
        flow.fetch_token(authorization_response=REDIRECT + "?state=other&code=THE-CODE")
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(authorization_response=REDIRECT + "?state=remembered&code=THE-CODE")


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ("access_denied", exceptions.AccessDeniedError),
        ("server_error", exceptions.AuthorizationError),
    ],
)
def test_authorization_response_error(error, cls):
    flow = make_flow()
    _, state = flow.authorization_url()
    with pytest.raises(cls) as info:
        flow.fetch_token(
            authorization_response=f"{REDIRECT}?state={state}&error={error}&error_description=nope"
        )
    assert info.value.error == error and info.value.description == "nope"
    assert error in str(info.value)


def test_authorization_response_without_code():
    flow = make_flow()
    _, state = flow.authorization_url()
    with pytest.raises(exceptions.AuthorizationError, match="no code"):
        flow.fetch_token(authorization_response=f"{REDIRECT}?state={state}")


def test_authorization_response_http_non_loopback_refused():
    flow = make_flow()
    _, state = flow.authorization_url()
    with pytest.raises(exceptions.InsecureTransportError):
        flow.fetch_token(authorization_response=f"http://app.example.com/cb?state={state}&code=c")


# -- partial / granular consent ---------------------------------------------------------


def test_partial_consent_is_accepted_and_reported(mocked):
    requested = ["openid", "email", "https://www.googleapis.com/auth/drive"]
    granted = "openid https://www.googleapis.com/auth/userinfo.email"
    flow = Flow.from_client_config(make_config(), requested, redirect_uri=REDIRECT)
    flow.authorization_url()
    mocked.post(TOKEN_URI, json=token_body(scope=granted))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = flow.fetch_token(code="THE-CODE")
    assert "OAUTHLIB_RELAX_TOKEN_SCOPE" not in os.environ
    assert token["scope"] == granted.split()
    assert token.scope_changed  # oauthlib's token object, as in the reference
    creds = flow.credentials
    assert creds.scopes == granted.split()  # a refresh asks for the granted ones only
    assert creds.granted_scopes == granted.split()
    assert "https://www.googleapis.com/auth/drive" not in creds.granted_scopes


def test_same_scopes_and_missing_scope_field(mocked):
    flow = make_flow()
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(code="THE-CODE")
    assert flow.credentials.granted_scopes == SCOPES
    body = token_body()
    del body["scope"]
    mocked.post(TOKEN_URI, json=body)
    flow.fetch_token(code="THE-CODE")
    assert flow.credentials.granted_scopes is None
    assert flow.credentials.scopes == SCOPES


# -- token endpoint failures ---------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_5xx_is_unavailable(mocked, status):
    mocked.post(TOKEN_URI, status=status, json={"error": "internal", "x": CLIENT_SECRET})
    with pytest.raises(exceptions.ProviderUnavailableError) as info:
        make_flow().fetch_token(code="THE-CODE")
    assert info.value.status == status and info.value.endpoint == "token"
    assert str(status) in str(info.value)
    assert_no_secret(info.value)


def test_connection_failure(mocked):
    mocked.post(TOKEN_URI, body=requests.ConnectionError("boom " + CLIENT_SECRET))
    with pytest.raises(exceptions.ProviderUnavailableError) as info:
        make_flow().fetch_token(code="THE-CODE")
    assert isinstance(info.value, requests.ConnectionError)
    assert info.value.status is None
    assert "oauth2.googleapis.com" in str(info.value)
    assert_no_secret(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("exc", [requests.ReadTimeout, requests.ConnectTimeout])
def test_timeout(mocked, exc):
    mocked.post(TOKEN_URI, body=exc("slow"))
    with pytest.raises(exceptions.ProviderTimeoutError) as info:
        make_flow().fetch_token(code="THE-CODE", timeout=1.5)
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, requests.Timeout)
    assert "1.5" in str(info.value)


def test_other_request_failure(mocked):
    mocked.post(TOKEN_URI, body=requests.exceptions.TooManyRedirects("x"))
    with pytest.raises(exceptions.ProviderUnavailableError, match="TooManyRedirects"):
        make_flow().fetch_token(code="THE-CODE")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"body": "<html>" + CLIENT_SECRET}, "not JSON"),
        ({"json": ["access_token"]}, "not an object"),
        ({"json": {"token_type": "Bearer"}}, "lacks an access_token"),
        ({"json": {"access_token": "", "token_type": "Bearer"}}, "lacks an access_token"),
        ({"json": {"access_token": "ACCESS-tok-123", "token_type": "mac"}}, "'mac'"),
        ({"json": {"access_token": "ACCESS-tok-123"}}, "token_type is missing"),
        ({"json": token_body(expires_in="soon")}, "expires_in"),
        ({"json": token_body(scope=5)}, "scope"),
    ],
)
def test_malformed_responses(mocked, kwargs, fragment):
    mocked.post(TOKEN_URI, status=200, **kwargs)
    flow = make_flow()
    with pytest.raises(exceptions.MalformedResponseError) as info:
        flow.fetch_token(code="THE-CODE")
    assert fragment in str(info.value)
    assert_no_secret(info.value)
    assert not flow.oauth2session.token
    with pytest.raises(ValueError, match="fetch_token"):
        _ = flow.credentials


def test_token_type_case_insensitive(mocked):
    mocked.post(TOKEN_URI, json=token_body(token_type="bearer"))
    assert make_flow().fetch_token(code="THE-CODE")["token_type"] == "bearer"


def test_4xx_without_error_object(mocked):
    mocked.post(TOKEN_URI, status=403, body="forbidden")
    with pytest.raises(exceptions.MalformedResponseError, match="HTTP 403") as info:
        make_flow().fetch_token(code="THE-CODE")
    assert info.value.status == 403


def test_invalid_grant(mocked):
    mocked.post(
        TOKEN_URI, status=400, json={"error": "invalid_grant", "error_description": "Bad Request"}
    )
    with pytest.raises(exceptions.InvalidGrantError) as info:
        make_flow().fetch_token(code="THE-CODE")
    err = info.value
    assert isinstance(err, exceptions.OAuthErrorResponse)
    assert isinstance(err, oauthlib_errors.InvalidGrantError)  # the reference's type
    assert (err.error, err.description, err.status) == ("invalid_grant", "Bad Request", 400)
    assert str(err) == "the token endpoint refused the request: invalid_grant (Bad Request)"
    assert_no_secret(err)


def test_other_oauth_error(mocked):
    mocked.post(TOKEN_URI, status=401, json={"error": "invalid_client"})
    with pytest.raises(exceptions.OAuthErrorResponse) as info:
        make_flow().fetch_token(code="THE-CODE")
    assert not isinstance(info.value, exceptions.InvalidGrantError)
    assert info.value.error == "invalid_client" and info.value.status == 401


def test_error_object_with_200(mocked):
    mocked.post(TOKEN_URI, status=200, json={"error": "invalid_grant"})
    with pytest.raises(exceptions.InvalidGrantError):
        make_flow().fetch_token(code="THE-CODE")


def test_redirect_is_not_followed(mocked):
    mocked.post(TOKEN_URI, status=302, headers={"Location": "https://evil.example/steal"})
    mocked.get("https://evil.example/steal", json=token_body())
    mocked.post("https://evil.example/steal", json=token_body())
    with pytest.raises(exceptions.MalformedResponseError, match="redirect"):
        make_flow().fetch_token(code="THE-CODE")
    assert len(mocked.calls) == 1


# -- credentials ------------------------------------------------------------------------------


def test_credentials_before_token():
    with pytest.raises(ValueError, match="fetch_token"):
        _ = make_flow().credentials
    with pytest.raises(ValueError):
        make_flow().authorized_session()


def test_credentials_fields(mocked):
    flow = make_flow()
    mocked.post(TOKEN_URI, json=token_body(expires_in=3600))
    before = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    flow.fetch_token(code="THE-CODE")
    creds = flow.credentials
    assert isinstance(creds, google.oauth2.credentials.Credentials)
    assert creds.token == "ACCESS-tok-123"
    assert creds.refresh_token == "REFRESH-tok-456"
    assert creds.id_token == "ID.tok.789"
    assert creds.token_uri == TOKEN_URI
    assert creds.client_id == "cid.apps.googleusercontent.com"
    assert creds.client_secret == CLIENT_SECRET
    assert creds.scopes == SCOPES
    assert creds.expiry.tzinfo is None
    delta = (creds.expiry - before).total_seconds()
    assert 3595 <= delta <= 3605
    assert creds.valid
    assert flow.credentials is not creds  # a new object each time


def test_credentials_without_expiry(mocked):
    body = token_body()
    del body["expires_in"]
    mocked.post(TOKEN_URI, json=body)
    flow = make_flow()
    flow.fetch_token(code="THE-CODE")
    assert flow.credentials.expiry is None


def test_authorized_session(mocked):
    flow = make_flow()
    mocked.post(TOKEN_URI, json=token_body())
    flow.fetch_token(code="THE-CODE")
    session = flow.authorized_session()
    assert isinstance(session, google.auth.transport.requests.AuthorizedSession)
    mocked.get("https://www.googleapis.com/userinfo/v2/me", json={"email": "a@b.c"})
    assert session.get("https://www.googleapis.com/userinfo/v2/me").json() == {"email": "a@b.c"}
    assert mocked.calls[-1].request.headers["Authorization"] == "Bearer ACCESS-tok-123"


def test_flask_layer_usage(mocked):
    """The call sequence the Flask extension uses, end to end."""
    flow = Flow.from_client_config(
        make_config(),
        SCOPES,
        redirect_uri=REDIRECT,
        code_verifier="k" * 60,
        autogenerate_code_verifier=False,
    )
    flow.oauth2session.mount("https://", requests.adapters.HTTPAdapter())
    url, state = flow.authorization_url(
        state="st-1",
        nonce="n",
        prompt="select_account",
        hd="example.com",
        login_hint="u@example.com",
        include_granted_scopes="true",
    )
    assert state == "st-1" and query(url)["state"] == "st-1"
    mocked.post(
        TOKEN_URI,
        json=token_body(),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "THE-CODE",
                    "redirect_uri": REDIRECT,
                    "code_verifier": "k" * 60,
                },
            )
        ],
    )
    flow2 = Flow.from_client_config(
        make_config(),
        SCOPES,
        redirect_uri=REDIRECT,
        code_verifier="k" * 60,
        autogenerate_code_verifier=False,
    )
    flow2.fetch_token(code="THE-CODE", timeout=5)
    assert flow2.credentials.token == "ACCESS-tok-123"


def test_a_compliance_hook_editing_headers_does_not_leak_into_later_requests(mocked):
    """requests-oauthlib hooks change headers in place; the next request must not see it."""
    mocked.post(TOKEN_URI, json=token_body())
    mocked.post(TOKEN_URI, json=token_body())

    def add_header(url, headers, request_kwargs):
        headers["X-Tenant"] = "one-client-only"
        return url, headers, request_kwargs

    first = make_flow()
    first.oauth2session.register_compliance_hook("access_token_request", add_header)
    first.fetch_token(code="CODE-1")
    make_flow().fetch_token(code="CODE-2")
    assert mocked.calls[0].request.headers["X-Tenant"] == "one-client-only"
    assert "X-Tenant" not in mocked.calls[1].request.headers
