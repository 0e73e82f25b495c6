"""Flow works through ``flow.oauth2session``: tests in the reference's style, session settings.

Code written for ``google_auth_oauthlib`` patches ``flow.oauth2session.fetch_token``,
``flow.oauth2session.authorization_url`` and ``flask_google_flow.flow.webbrowser``;
those tests must pass unchanged after the import swap.
"""

from __future__ import annotations

import io
import json
import threading
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import oauthlib.oauth2
import pytest
import requests
import requests.adapters
import requests_oauthlib
import responses
from flow_support import AUTH_URI, CLIENT_SECRET, SCOPES, TOKEN_URI, make_config, token_body

from flask_google_flow import exceptions
from flask_google_flow.flow import Flow, InstalledAppFlow

CONFIG = make_config()
REDIRECT = "https://app.example.com/oauth2callback"
VERIFIER = "v" * 43
CHALLENGE = "7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM"


@pytest.fixture
def instance():
    return Flow.from_client_config(CONFIG, scopes=SCOPES)


def test_authorization_url_calls_the_session(instance):
    instance.code_verifier = VERIFIER
    with mock.patch.object(
        instance.oauth2session, "authorization_url", wraps=instance.oauth2session.authorization_url
    ) as spy:
        url, state = instance.authorization_url(prompt="consent")
    spy.assert_called_once_with(
        AUTH_URI,
        access_type="offline",
        prompt="consent",
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
    )
    assert url.startswith(AUTH_URI) and f"state={state}" in url


def test_authorization_url_passes_a_given_state(instance):
    with mock.patch.object(
        instance.oauth2session, "authorization_url", return_value=("https://x/", "given")
    ) as patched:
        assert instance.authorization_url(state="given") == ("https://x/", "given")
    assert patched.call_args.kwargs["state"] == "given"


def test_fetch_token_calls_the_session(instance):
    instance.code_verifier = VERIFIER
    with mock.patch.object(
        instance.oauth2session, "fetch_token", autospec=True, return_value=mock.sentinel.token
    ) as fetch:
        assert instance.fetch_token(code=mock.sentinel.code) == mock.sentinel.token
    fetch.assert_called_once_with(
        TOKEN_URI, client_secret=CLIENT_SECRET, code=mock.sentinel.code, code_verifier=VERIFIER
    )


def test_fetch_token_with_authorization_response_passes_the_checked_code(instance):
    _, state = instance.authorization_url()
    with mock.patch.object(instance.oauth2session, "fetch_token", return_value={}) as fetch:
        instance.fetch_token(authorization_response=f"{REDIRECT}?state={state}&code=C-1")
    assert fetch.call_args.kwargs["code"] == "C-1"
    assert "authorization_response" not in fetch.call_args.kwargs


def test_credentials_come_from_the_session_token(instance):
    instance.oauth2session.token = {
        "access_token": mock.sentinel.access_token,
        "refresh_token": mock.sentinel.refresh_token,
        "expires_at": 643969200.0,
    }
    creds = instance.credentials
    assert creds.token == mock.sentinel.access_token
    assert creds.refresh_token == mock.sentinel.refresh_token
    assert creds.scopes == SCOPES


def test_run_local_server_with_patched_fetch_token_and_webbrowser(monkeypatch):
    flow = InstalledAppFlow.from_client_config(make_config("installed"), SCOPES)
    webbrowser_mock = mock.MagicMock()
    monkeypatch.setattr("flask_google_flow.flow.webbrowser", webbrowser_mock)

    def open_url(url, **_kwargs):
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        requests.get(f"{query['redirect_uri']}?code=the-code&state={query['state']}", timeout=5)

    def set_token(*_args, **_kwargs):
        flow.oauth2session.token = {"access_token": "at", "expires_at": 643969200.0}

    def start_browser(url, **_kwargs):
        threading.Thread(target=open_url, args=(url,), daemon=True).start()

    webbrowser_mock.get.return_value.open.side_effect = start_browser
    with mock.patch.object(flow.oauth2session, "fetch_token", side_effect=set_token) as fetch:
        creds = flow.run_local_server(port=0, timeout_seconds=10, token_audience="aud")
    assert creds.token == "at"
    webbrowser_mock.get.assert_called_with(None)
    fetch.assert_called_once_with(
        TOKEN_URI,
        client_secret=CLIENT_SECRET,
        code="the-code",
        code_verifier=flow.code_verifier,
        audience="aud",
    )


# -- settings users put on the session take effect ----------------------------------------


class RecordingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, body=None, status=200):
        super().__init__()
        self.sent = []
        self.body = token_body() if body is None else body
        self.status = status

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code = self.status
        response.raw = io.BytesIO(json.dumps(self.body).encode())
        response.encoding = "utf-8"
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url
        response.__setstate__(
            {**response.__getstate__(), "_content": json.dumps(self.body).encode()}
        )
        return response


def test_verify_proxies_and_cert_set_on_the_session_are_used(instance, monkeypatch):
    # requests lets these variables override Session.verify (its documented precedence).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    adapter = RecordingAdapter()
    session = instance.oauth2session
    session.mount("https://", adapter)
    session.verify = "/etc/ssl/private-ca.pem"
    session.proxies = {"https": "http://proxy.internal:3128"}
    session.cert = "/etc/ssl/client.pem"
    instance.fetch_token(code="C")
    _request, kwargs = adapter.sent[0]
    assert kwargs["verify"] == "/etc/ssl/private-ca.pem"
    assert kwargs["proxies"]["https"] == "http://proxy.internal:3128"
    assert kwargs["cert"] == "/etc/ssl/client.pem"
    assert kwargs["timeout"] == 10.0


def test_timeout_applies_to_the_flow_session_and_can_be_changed(instance):
    adapter = RecordingAdapter()
    instance.oauth2session.mount("https://", adapter)
    instance.timeout = 3.5
    instance.fetch_token(code="C")
    instance.fetch_token(code="C", timeout=1)
    assert [kwargs["timeout"] for _r, kwargs in adapter.sent] == [3.5, 1]


def test_user_compliance_hooks_run_and_a_redirect_is_refused_before_them(instance):
    adapter = RecordingAdapter(body={}, status=302)
    instance.oauth2session.mount("https://", adapter)
    seen = []
    instance.oauth2session.register_compliance_hook(
        "access_token_response", lambda response: seen.append(response) or response
    )
    with pytest.raises(exceptions.MalformedResponseError, match="redirect"):
        instance.fetch_token(code="C")
    assert seen == []  # refused before any response hook could "fix" it
    assert adapter.sent[0][1].get("allow_redirects", False) is False
    assert len(adapter.sent) == 1


def test_session_response_hooks_still_run_for_the_token_request(instance):
    adapter = RecordingAdapter()
    instance.oauth2session.mount("https://", adapter)
    seen = []
    instance.oauth2session.hooks["response"].append(lambda r, **kw: seen.append(r.url))
    instance.fetch_token(code="C")
    assert seen == [TOKEN_URI]


# -- a session built by the user (plain requests-oauthlib client) ---------------------------


def plain_flow():
    session = requests_oauthlib.OAuth2Session(
        client_id=CONFIG["web"]["client_id"], scope=["openid", "email", "drive"]
    )
    return Flow(session, "web", CONFIG, redirect_uri=REDIRECT, code_verifier=VERIFIER)


def test_plain_session_partial_consent_does_not_raise_oauthlibs_warning(mocked):
    mocked.post(TOKEN_URI, json=token_body(scope="openid email"))
    flow = plain_flow()
    token = flow.fetch_token(code="C")  # oauthlib raises Warning("Scope has changed") inside
    assert token["access_token"] == "ACCESS-tok-123"
    assert flow.credentials.scopes == ["openid", "email"]
    assert flow.oauth2session.token["access_token"] == "ACCESS-tok-123"


def test_plain_session_flow_applies_the_transport_rule_itself(mocked):
    """oauthlib's own client does not check the redirect URI: the Flow does, before sending."""
    flow = plain_flow()
    flow.redirect_uri = "http://app.example.com/cb"
    with pytest.raises(exceptions.InsecureTransportError, match="redirect URI"):
        flow.authorization_url()
    with pytest.raises(exceptions.InsecureTransportError, match="redirect URI"):
        flow.fetch_token(code="C")
    assert not mocked.calls


def test_plain_session_gets_the_timeout_and_the_status_checks(mocked):
    mocked.post(TOKEN_URI, status=503, json={"error": "x"})
    with pytest.raises(exceptions.ProviderUnavailableError):
        plain_flow().fetch_token(code="C")
    mocked.replace(responses.POST, TOKEN_URI, json=token_body(token_type="mac"))
    with pytest.raises(exceptions.MalformedResponseError, match="'mac'"):
        plain_flow().fetch_token(code="C")


def test_plain_session_answer_without_token_is_malformed(mocked):
    mocked.post(TOKEN_URI, status=200, body="<html>sign in</html>")
    with pytest.raises(exceptions.MalformedResponseError, match="lacks an access_token"):
        plain_flow().fetch_token(code="C")


def test_plain_session_invalid_grant_keeps_our_type(mocked):
    mocked.post(TOKEN_URI, status=200, json={"error": "invalid_grant", "error_description": "used"})
    with pytest.raises(exceptions.InvalidGrantError) as info:
        plain_flow().fetch_token(code="C")
    assert isinstance(info.value, oauthlib.oauth2.InvalidGrantError)
    assert str(info.value) == "the token endpoint refused the request: invalid_grant (used)"


def test_the_guard_is_registered_once_per_session():
    flow = plain_flow()
    Flow(flow.oauth2session, "web", CONFIG)
    flow.authorization_url()
    flow.authorization_url()
    hooks = flow.oauth2session.compliance_hook["access_token_request"]
    assert len(hooks) == 1


def test_own_oauthlib_client_on_our_session_keeps_the_bearer_check(mocked):
    client = oauthlib.oauth2.WebApplicationClient(CONFIG["web"]["client_id"])
    flow = Flow.from_client_config(CONFIG, SCOPES, client=client, redirect_uri=REDIRECT)
    mocked.post(TOKEN_URI, json=token_body(token_type="mac"))
    with pytest.raises(exceptions.MalformedResponseError, match="'mac'"):
        flow.fetch_token(code="C")
    assert not flow.oauth2session.token
