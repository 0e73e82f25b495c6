"""No code, state, verifier, token or client secret in any log record at DEBUG, from any logger."""

from __future__ import annotations

import http.server
import logging
import threading

import google.auth.transport.requests
import pytest
import requests
from flow_support import TOKEN_URI, make_config, token_body

from flask_google_flow.core.log_redaction import RedactingFilter, redact_text
from flask_google_flow.flow import Flow, InstalledAppFlow
from flask_google_flow.testing import DEFAULT_REDIRECT_URI, FakeGoogle


@pytest.fixture
def debug_logs(caplog, monkeypatch):
    """Everything at DEBUG, google-auth's request logging included."""
    caplog.set_level(logging.DEBUG)
    google_logger = logging.getLogger("google")
    monkeypatch.setattr(google_logger, "propagate", True)
    monkeypatch.setattr(google_logger, "level", logging.DEBUG)
    return caplog


def record_texts(caplog):
    """Each record's message plus every attribute (``extra`` fields included)."""
    return [record.getMessage() + " " + repr(vars(record)) for record in caplog.records]


def assert_clean(caplog, secrets):
    secrets = [s for s in secrets if s]
    assert secrets
    for text in record_texts(caplog):
        for secret in secrets:
            assert secret not in text, f"a secret reached the log: {text[:300]}"


def test_sign_in_refresh_and_revoke_against_the_fake(debug_logs):
    fake = FakeGoogle()
    config = fake.client_config()
    flow = Flow.from_client_config(config, ["openid", "email"], redirect_uri=DEFAULT_REDIRECT_URI)
    with fake.intercept():
        url, state = flow.authorization_url(nonce="NONCE-value-1234")
        callback = fake.approve(url)
        code = callback.split("code=", 1)[1].split("&", 1)[0]
        token = dict(flow.fetch_token(authorization_response=callback))
        creds = flow.credentials
        creds.refresh(google.auth.transport.requests.Request())
        refreshed = creds.token
        flow.authorized_session().get(fake.endpoints.userinfo)
        requests.post(fake.endpoints.revocation, data={"token": refreshed}, timeout=5)

    names = {record.name for record in debug_logs.records}
    # The libraries did log (so the check below means something) ...
    assert "requests_oauthlib.oauth2_session" in names
    assert any(name.startswith("google.auth") for name in names)
    # ... and none of their records carries a secret.
    assert_clean(
        debug_logs,
        [
            state,
            code,
            flow.code_verifier,
            "NONCE-value-1234",
            token["access_token"],
            token["refresh_token"],
            token["id_token"],
            refreshed,
            config["web"]["client_secret"],
        ],
    )


class _Revoke(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # keep the test output quiet
        pass


def test_urllib3_request_lines_lose_their_query_secrets(debug_logs):
    """Google's own revoke sample puts the token in the query; urllib3 logs the path."""
    Flow.from_client_config(make_config(), ["openid"])  # installs the filters
    server = http.server.HTTPServer(("127.0.0.1", 0), _Revoke)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        requests.post(
            f"http://127.0.0.1:{port}/revoke?token=ya29.SECRET-access&x=1",
            headers={"Authorization": "Bearer ya29.SECRET-access"},
            timeout=5,
        )
    finally:
        server.shutdown()
        server.server_close()
    lines = [r.getMessage() for r in debug_logs.records if r.name == "urllib3.connectionpool"]
    assert any("/revoke?token=[redacted]&x=1" in line for line in lines)
    assert_clean(debug_logs, ["ya29.SECRET-access"])


def test_loopback_run(debug_logs, browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())
    seen = {}

    def script(b, url):
        from urllib.parse import parse_qs, urlsplit

        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        seen["state"] = query["state"]
        b.fetch(f"{query['redirect_uri']}?state={query['state']}&code=THE-CODE-xyz")

    browser.script = script
    flow = InstalledAppFlow.from_client_config(make_config("installed"), ["openid"])
    flow.run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert any(r.name == "flask_google_flow.core.loopback" for r in debug_logs.records)
    assert_clean(
        debug_logs,
        [
            seen["state"],
            "THE-CODE-xyz",
            flow.code_verifier,
            "ACCESS-tok-123",
            "REFRESH-tok-456",
            "s3cr3t-CLIENT-value",
        ],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /cb?code=4/abc&state=xyz HTTP/1.1",
            "GET /cb?code=[redacted]&state=[redacted] HTTP/1.1",
        ),
        (
            '{"access_token": "ya29.a", "expires_in": 5}',
            '{"access_token": "[redacted]", "expires_in": 5}',
        ),
        ("{'refresh_token': '1//x'}", "{'refresh_token': '[redacted]'}"),
        ("Authorization: Bearer ya29.a", "Authorization: Bearer [redacted]"),
        ("next=%2Fcb%3Fcode%3Dabc", "next=%2Fcb%3Fcode%3D[redacted]"),
        ("encode=1&postcode=2", "encode=1&postcode=2"),
    ],
)
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_redacting_filter_for_access_logs():
    """Apps attach the filter to werkzeug's or gunicorn's access logger."""
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '"%s" %s',
        ("GET /oauth2callback?state=s&code=c HTTP/1.1", 302),
        None,
    )
    assert RedactingFilter().filter(record) is True
    assert (
        record.getMessage() == '"GET /oauth2callback?state=[redacted]&code=[redacted] HTTP/1.1" 302'
    )
