"""``flask_google_flow.logging.RedactSecrets``: access-log lines without codes, states, tokens."""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import urllib.request
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from flask_google_flow.logging import RedactSecrets, install_redaction, redact

CODE = "4/0AeanS0ZsecretCodeValue123"
STATE = "Zq3vS8u4b9dXw2kPstateValue"
CALLBACK = f"/oauth2callback?state={STATE}&code={CODE}&scope=openid&iss=https://accounts.google.com"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def werkzeug_log():
    logger = logging.getLogger("werkzeug")
    handler = Capture()
    saved = (logger.level, list(logger.filters))
    logger.filters[:] = [f for f in logger.filters if not isinstance(f, RedactSecrets)]
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(saved[0])
    logger.filters[:] = saved[1]


def _serve_one_request(path: str) -> None:
    def app(environ, start_response):
        start_response("302 Found", [("Location", "/")])
        return [b""]

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}")
        opener = urllib.request.build_opener(NoRedirect)
        with contextlib.suppress(urllib.error.HTTPError):
            opener.open(request, timeout=10)
    finally:
        thread.join(10)
        server.server_close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_werkzeugs_request_line_prints_the_code_without_the_filter(werkzeug_log):
    _serve_one_request(CALLBACK)
    assert any(CODE in line for line in werkzeug_log.lines)  # what the filter is for


def test_werkzeugs_request_line_is_redacted(werkzeug_log):
    install_redaction(["werkzeug"])
    _serve_one_request(CALLBACK)
    [line] = [line for line in werkzeug_log.lines if "oauth2callback" in line]
    assert CODE not in line and STATE not in line
    assert "state=[redacted]&code=[redacted]&scope=openid&iss=https://accounts.google.com" in line
    assert '" 302 ' in line  # the rest of the line is intact


def test_install_is_idempotent():
    logger = logging.getLogger("tests.redaction.once")
    install_redaction([logger.name])
    install_redaction([logger.name])
    assert sum(isinstance(f, RedactSecrets) for f in logger.filters) == 1


def test_gunicorn_access_log_line_is_redacted():
    from gunicorn import glogging as gunicorn
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "-")
    glogger = gunicorn.Logger(config)
    handler = Capture()
    glogger.access_log.addHandler(handler)
    saved = list(glogger.access_log.filters)
    install_redaction(["gunicorn.access"])
    try:
        path, _, query = CALLBACK.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": CALLBACK,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_REFERER": f"http://127.0.0.1:5000{CALLBACK}",
        }
        response = SimpleNamespace(status="302 Found", sent=0, response_length=0, headers=[])
        request = SimpleNamespace(headers=[])
        glogger.access(response, request, environ, datetime.timedelta(seconds=0.01))
    finally:
        glogger.access_log.removeHandler(handler)
        glogger.access_log.filters[:] = saved
    [line] = handler.lines
    assert "GET /oauth2callback?state=[redacted]&code=[redacted]" in line
    assert CODE not in line and STATE not in line
    assert " 302 " in line


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /cb?code=4%2F0AeanS0Zabcdefghij HTTP/1.1", "4%2F0AeanS0Z"),
        ("q=state=abc123&x=1", "abc123"),
        ("Authorization: Bearer ya29.a0AfH6SMBx-yz", "ya29.a0AfH6SMBx"),
        ("refresh 1//0gXyzAbCdEfGhIjKlMn stored", "1//0gXyzAbCdEfGhIjKlMn"),
        ("secret GOCSPX-abcdefghijkl leaked", "GOCSPX-abcdefghijkl"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end", "eyJzdWIiOiIxIn0"),
        ("POST /token access_token=abc.def&token_type=Bearer", "abc.def"),
        ("POST /gsi credential=eyJabc&g_csrf_token=zzz", "zzz"),
    ],
)
def test_token_looking_values_are_redacted(text, secret):
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "GET /profile?tab=1&next=/drive HTTP/1.1",
        "GET /search?barcode=123&unicode=yes",  # names that only end in "code"
        "GET /static/style.css HTTP/1.1",
    ],
)
def test_other_lines_are_unchanged(text):
    assert redact(text) == text


def test_a_record_with_dict_args_is_formatted_once():
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(s)s", None, None
    )
    record.args = {"r": f"GET {CALLBACK} HTTP/1.1", "s": "302"}
    assert RedactSecrets().filter(record)
    assert record.getMessage().startswith("GET /oauth2callback?state=[redacted]&code=[redacted]")
