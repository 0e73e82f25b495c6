"""run_local_server against real sockets; a thread plays the browser."""

from __future__ import annotations

import errno
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flow_support import SCOPES, TOKEN_URI, http_get, make_config, token_body

from flask_google_flow import exceptions
from flask_google_flow.core import loopback as _loopback
from flask_google_flow.flow import InstalledAppFlow, WSGITimeoutError
from tests.conftest import require


def make_flow(**kwargs):
    return InstalledAppFlow.from_client_config(make_config("installed"), SCOPES, **kwargs)


def params_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def callback(auth_url, **params):
    """The URL Google would redirect to: redirect_uri + params (state defaults to the real one)."""
    query = params_of(auth_url)
    params.setdefault("state", query["state"])
    qs = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{query['redirect_uri'].rstrip('/')}/?{qs}"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_bindable(port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
        return True


def test_stray_requests_do_not_end_the_flow(browser, mocked, capsys):
    mocked.post(TOKEN_URI, json=token_body())

    def script(b, url):
        base = params_of(url)["redirect_uri"]
        assert b.fetch(base + "favicon.ico")[0] == 404
        assert b.fetch(base + "probe?state=x&code=y")[0] == 404
        status, body = b.fetch(base)  # no state at all
        assert status == 400
        status, body = b.fetch(callback(url, state="forged", code="EVIL"))
        assert status == 400 and "does not belong" in body
        status, body = b.fetch(callback(url, state="forged", error="access_denied"))
        assert status == 400  # a forged error cannot abort the sign-in either
        status, body = b.fetch(callback(url, code="THE-CODE"))
        assert status == 200
        assert body.lstrip().startswith("<!doctype html>") and "You may close" in body

    browser.script = script
    creds = make_flow().run_local_server(port=0, timeout_seconds=10)
    browser.join()
    assert creds.token == "ACCESS-tok-123"
    assert len(mocked.calls) == 1  # only the right code was exchanged
    assert "code=THE-CODE" in mocked.calls[0].request.body
    assert [r[1] for r in browser.results] == [404, 404, 400, 400, 400, 200]
    out = capsys.readouterr().out
    assert "Please visit this URL to authorize this application: https://" in out


def test_browser_and_redirect_uri(browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    port = free_port()
    flow = make_flow()
    flow.run_local_server(
        port=port, browser="firefox", authorization_prompt_message=None, timeout_seconds=10
    )
    browser.join()
    assert browser.requested_name == "firefox"
    url, new, autoraise = browser.opened[0]
    assert (new, autoraise) == (1, True)
    assert params_of(url)["redirect_uri"] == f"http://localhost:{port}/"
    assert flow.redirect_uri == f"http://localhost:{port}/"
    assert "redirect_uri=http%3A%2F%2Flocalhost%3A" in mocked.calls[0].request.body


def test_port_zero_picks_a_port_and_no_trailing_slash(browser, mocked, capsys):
    mocked.post(TOKEN_URI, json=token_body())
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    flow = make_flow()
    flow.run_local_server(
        port=0,
        redirect_uri_trailing_slash=False,
        authorization_prompt_message="",
        timeout_seconds=10,
    )
    browser.join()
    uri = flow.redirect_uri
    port = urlsplit(uri).port
    assert uri == f"http://localhost:{port}" and port not in (0, 8080)
    assert capsys.readouterr().out == ""  # empty prompt = silent


def test_kwargs_and_token_audience(browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    make_flow().run_local_server(
        port=0,
        token_audience="https://aud.example",
        login_hint="u@example.com",
        prompt="consent",
        authorization_prompt_message=None,
        timeout_seconds=10,
        success_message="All <b>done</b>",
    )
    browser.join()
    query = params_of(browser.opened[0][0])
    assert query["login_hint"] == "u@example.com" and query["prompt"] == "consent"
    body = parse_qs(mocked.calls[0].request.body)
    assert body["audience"] == ["https://aud.example"]
    assert "All &lt;b&gt;done&lt;/b&gt;" in browser.results[0][2]  # escaped


def test_no_audience_by_default_and_open_browser_false(browser, mocked, capsys):
    mocked.post(TOKEN_URI, json=token_body())
    flow = make_flow()

    def user():  # the user copies the printed URL into a browser
        for _ in range(200):
            out = capsys.readouterr().out
            if "https://" in out:
                url = out.split(": ", 1)[1].strip()
                http_get(callback(url, code="THE-CODE"))
                return
            time.sleep(0.01)

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    flow.run_local_server(port=0, open_browser=False, timeout_seconds=10)
    thread.join(5)
    assert browser.opened == []
    assert "audience" not in parse_qs(mocked.calls[0].request.body)


def test_user_denies(browser, mocked):
    browser.script = lambda b, url: b.fetch(
        callback(url, error="access_denied", error_description="User+said+no")
    )
    with pytest.raises(exceptions.AccessDeniedError) as info:
        make_flow().run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert info.value.error == "access_denied" and info.value.description == "User said no"
    assert "access_denied" in str(info.value)
    assert browser.results[0][1] == 403 and "not granted" in browser.results[0][2]
    assert not mocked.calls


def test_other_authorization_error(browser, mocked):
    browser.script = lambda b, url: b.fetch(callback(url, error="invalid_scope"))
    with pytest.raises(exceptions.AuthorizationError) as info:
        make_flow().run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert not isinstance(info.value, exceptions.AccessDeniedError)
    assert info.value.error == "invalid_scope"


def test_failed_exchange_shows_failure_page(browser, mocked):
    mocked.post(TOKEN_URI, status=400, json={"error": "invalid_grant"})
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    port = free_port()
    with pytest.raises(exceptions.InvalidGrantError):
        make_flow().run_local_server(
            port=port, timeout_seconds=10, authorization_prompt_message=None
        )
    browser.join()
    status, body = browser.results[0][1:]
    assert status == 500 and "could not be completed" in body and "THE-CODE" not in body
    assert port_is_bindable(port)


def test_timeout_is_an_overall_deadline(browser):
    stop = threading.Event()

    def script(b, url):  # keeps poking the server with stray requests
        base = params_of(url)["redirect_uri"]
        while not stop.is_set():
            try:
                http_get(base + "favicon.ico", timeout=1)
            except OSError:
                return
            time.sleep(0.02)

    browser.script = script
    port = free_port()
    started = time.monotonic()
    with pytest.raises(WSGITimeoutError) as info:
        make_flow().run_local_server(
            port=port, timeout_seconds=0.4, authorization_prompt_message=None
        )
    elapsed = time.monotonic() - started
    stop.set()
    browser.join()
    assert 0.35 <= elapsed < 2.0
    assert isinstance(info.value, AttributeError)  # as the reference's WSGITimeoutError
    assert isinstance(info.value, exceptions.LocalServerTimeoutError)
    assert port_is_bindable(port)  # the port is released


def test_silent_connection_does_not_block_the_callback(browser, mocked):
    """A browser pre-connect that never sends a request must not stall the flow."""
    mocked.post(TOKEN_URI, json=token_body())
    idle = []

    def script(b, url):
        port = urlsplit(params_of(url)["redirect_uri"]).port
        idle.append(socket.create_connection(("127.0.0.1", port)))
        b.fetch(callback(url, code="THE-CODE"))

    browser.script = script
    started = time.monotonic()
    make_flow().run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    idle[0].close()
    assert time.monotonic() - started < 3


def test_port_taken_fails_fast():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(exceptions.LocalServerError) as info:
            make_flow().run_local_server(port=port, open_browser=False, timeout_seconds=5)
        assert time.monotonic() - started < 1
    assert isinstance(info.value, OSError) and info.value.errno == errno.EADDRINUSE
    assert f"{port}" in str(info.value) and "already in use" in str(info.value)


def test_port_released_and_reusable_right_away(browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    port = free_port()
    for _ in range(2):  # the second run binds the same port despite TIME_WAIT
        make_flow().run_local_server(
            port=port, timeout_seconds=10, authorization_prompt_message=None
        )
        browser.join()
    assert port_is_bindable(port)


def record_servers(monkeypatch):
    """Record the loopback servers run_local_server starts (to inspect their sockets)."""
    started = []
    real_start = _loopback.LoopbackServer.start.__func__

    def start(cls, *args, **kwargs):
        server = real_start(cls, *args, **kwargs)
        started.append(server._server.socket.getsockname()[:2])
        return server

    monkeypatch.setattr(_loopback.LoopbackServer, "start", classmethod(start))
    return started


def test_binds_loopback_only_by_default(browser, mocked, monkeypatch):
    mocked.post(TOKEN_URI, json=token_body())
    started = record_servers(monkeypatch)
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    make_flow().run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert started[0][0] == "127.0.0.1"


def test_bind_addr_differs_from_host(browser, mocked, monkeypatch):
    mocked.post(TOKEN_URI, json=token_body())

    def script(b, url):
        port = urlsplit(params_of(url)["redirect_uri"]).port
        # Listening on 127.0.0.2 (bind_addr), not on 127.0.0.1 (what "localhost" binds).
        with socket.socket() as probe:
            probe.settimeout(0.5)
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        query = callback(url, code="THE-CODE").split("?", 1)[1]
        # The browser asked for localhost (the redirect URI); the name led to 127.0.0.2.
        b.fetch(f"http://127.0.0.2:{port}/?{query}", host=f"localhost:{port}")

    browser.script = script
    started = record_servers(monkeypatch)
    flow = make_flow()
    flow.run_local_server(
        host="localhost",
        bind_addr="127.0.0.2",
        port=0,
        timeout_seconds=10,
        authorization_prompt_message=None,
    )
    browser.join()
    assert flow.redirect_uri.startswith("http://localhost:")
    assert browser.results[-1][1] == 200
    assert started[0][0] == "127.0.0.2"


def test_ipv6_loopback_host(browser, mocked):
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        ipv6_loopback = True
    except OSError:
        ipv6_loopback = False
    require(ipv6_loopback, "this machine has no IPv6 loopback (::1)", "enable IPv6 on lo")
    mocked.post(TOKEN_URI, json=token_body())
    browser.script = lambda b, url: b.fetch(callback(url, code="THE-CODE"))
    flow = make_flow()
    flow.run_local_server(host="::1", port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert flow.redirect_uri.startswith("http://[::1]:")


def test_non_loopback_host_is_refused_and_port_released(browser):
    port = free_port()
    with pytest.raises(exceptions.InsecureTransportError):
        make_flow().run_local_server(
            host="myhost.example", bind_addr="127.0.0.1", port=port, timeout_seconds=1
        )
    assert browser.opened == []
    assert port_is_bindable(port)


def test_non_loopback_host_with_opt_in(browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())

    def script(b, url):
        query = callback(url, code="THE-CODE").split("?", 1)[1]
        port = urlsplit(params_of(url)["redirect_uri"]).port
        b.fetch(f"http://127.0.0.1:{port}/?{query}", host=f"myhost.example:{port}")

    browser.script = script
    flow = make_flow(allow_insecure_http=True)
    flow.run_local_server(
        host="myhost.example",
        bind_addr="127.0.0.1",
        port=0,
        timeout_seconds=10,
        authorization_prompt_message=None,
    )
    browser.join()
    assert flow.redirect_uri.startswith("http://myhost.example:")


@pytest.mark.parametrize(
    "bad_host",
    ["evil.example:{port}", "evil.example", "127.0.0.1:{port}", "localhost:1", "localhost.:{port}"],
)
def test_dns_rebinding_host_is_refused_and_does_not_end_the_flow(browser, mocked, bad_host):
    """A page on evil.example whose name resolves to 127.0.0.1 must not complete the sign-in."""
    mocked.post(TOKEN_URI, json=token_body())

    def script(b, url):
        real = callback(url, code="THE-CODE")
        port = urlsplit(real).port
        status, body = b.fetch(real, host=bad_host.format(port=port))
        assert status == 421 and "own address" in body
        status, _ = b.fetch(
            callback(url, code="THE-CODE").replace("/?", "/favicon.ico?"),
            host=bad_host.format(port=port),
        )
        assert status == 421
        assert b.fetch(real)[0] == 200  # Host: localhost:<port>, as the browser sends it

    browser.script = script
    creds = make_flow().run_local_server(
        port=0, timeout_seconds=10, authorization_prompt_message=None
    )
    browser.join()
    assert creds.token == "ACCESS-tok-123"
    assert len(mocked.calls) == 1  # only the real callback's code was exchanged


def test_request_without_host_header_is_refused(browser, mocked):
    mocked.post(TOKEN_URI, json=token_body())

    def script(b, url):
        real = callback(url, code="THE-CODE")
        parts = urlsplit(real)
        with socket.create_connection(("127.0.0.1", parts.port), timeout=5) as sock:
            sock.sendall(f"GET /?{parts.query} HTTP/1.0\r\n\r\n".encode())
            answer = sock.recv(200).decode("latin-1")
        assert answer.split()[1] == "400"
        assert b.fetch(real)[0] == 200

    browser.script = script
    make_flow().run_local_server(port=0, timeout_seconds=10, authorization_prompt_message=None)
    browser.join()
    assert len(mocked.calls) == 1
