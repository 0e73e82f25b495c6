"""Provider metadata, the URL rule and the pooled HTTP client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import responses

from flask_google_flow.core.id_token import CertsCache
from flask_google_flow.core.provider import (
    GOOGLE,
    ProviderClient,
    ProviderMetadata,
    check_endpoint_url,
    is_loopback_host,
)
from flask_google_flow.exceptions import (
    InsecureTransportError,
    MalformedResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

DISCOVERY = "https://idp.example/.well-known/openid-configuration"
SECRET = "ya29.super-secret-token"


def discovery_document(**overrides: Any) -> dict[str, Any]:
    doc = {
        "issuer": "https://idp.example",
        "authorization_endpoint": "https://idp.example/auth",
        "token_endpoint": "https://idp.example/token",
        "revocation_endpoint": "https://idp.example/revoke",
        "userinfo_endpoint": "https://idp.example/userinfo",
        "jwks_uri": "https://idp.example/jwks",
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


# -- the URL rule -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://accounts.google.com/o/oauth2/v2/auth",
        "HTTPS://example.com",
        "http://localhost:8080/token",
        "http://LOCALHOST/token",
        "http://127.0.0.1:5000/x",
        "http://127.8.9.10/x",
        "http://[::1]:9000/x",
    ],
)
def test_allowed_urls(url: str) -> None:
    assert check_endpoint_url(url, name="token") == url


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://accounts.google.com/token", "accounts.google.com"),
        ("http://10.0.0.1/token", "10.0.0.1"),
        ("http://localhost.evil.com/token", "localhost.evil.com"),
        ("http://user:hunter2@evil.example/token", "evil.example"),
        ("http://[::2]/x", "::2"),
    ],
)
def test_plain_http_refused_off_loopback(url: str, host: str) -> None:
    with pytest.raises(InsecureTransportError) as info:
        check_endpoint_url(url, name="token")
    message = str(info.value)
    assert host in message and "token" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative",
        "",
        "https://",
    ],
)
def test_other_schemes_and_hostless_urls_refused(url: str) -> None:
    with pytest.raises(InsecureTransportError):
        check_endpoint_url(url, name="certs")


def test_invalid_url_refused() -> None:
    with pytest.raises(InsecureTransportError):
        check_endpoint_url("http://[::1", name="certs")


def test_is_loopback_host() -> None:
    assert is_loopback_host("localhost.")
    assert not is_loopback_host(None)
    assert not is_loopback_host("example.com")


# -- metadata -----------------------------------------------------------------


def test_google_metadata() -> None:
    assert GOOGLE.issuers == ("https://accounts.google.com", "accounts.google.com")
    assert GOOGLE.token_endpoint == "https://oauth2.googleapis.com/token"
    assert GOOGLE.authorization_endpoint == "https://accounts.google.com/o/oauth2/v2/auth"
    assert GOOGLE.revocation_endpoint == "https://oauth2.googleapis.com/revoke"
    assert GOOGLE.userinfo_endpoint == "https://openidconnect.googleapis.com/v1/userinfo"
    assert GOOGLE.jwks_uri == "https://www.googleapis.com/oauth2/v3/certs"
    GOOGLE.check_urls()
    with pytest.raises(AttributeError):
        GOOGLE.issuer = "x"  # type: ignore[misc]


def test_from_discovery() -> None:
    meta = ProviderMetadata.from_discovery(
        discovery_document(), expected_issuer="https://idp.example"
    )
    assert meta.token_endpoint == "https://idp.example/token"
    assert meta.issuers == ("https://idp.example",)


def test_from_discovery_optional_endpoints() -> None:
    meta = ProviderMetadata.from_discovery(
        discovery_document(revocation_endpoint=None, userinfo_endpoint=None)
    )
    assert meta.revocation_endpoint is None and meta.userinfo_endpoint is None


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"]
)
def test_from_discovery_requires_fields(field: str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        ProviderMetadata.from_discovery(discovery_document(**{field: None}))
    assert field in str(info.value)
    with pytest.raises(MalformedResponseError):
        ProviderMetadata.from_discovery(discovery_document(**{field: 42}))


def test_from_discovery_issuer_must_match() -> None:
    with pytest.raises(MalformedResponseError):
        ProviderMetadata.from_discovery(
            discovery_document(issuer="https://evil.example"),
            expected_issuer="https://idp.example",
        )


def test_from_discovery_rejects_insecure_endpoints() -> None:
    with pytest.raises(InsecureTransportError):
        ProviderMetadata.from_discovery(discovery_document(token_endpoint="http://idp.example/t"))


def test_from_discovery_rejects_non_objects() -> None:
    with pytest.raises(MalformedResponseError):
        ProviderMetadata.from_discovery(["x"])  # type: ignore[arg-type]


def test_overrides_aliases_and_issuer() -> None:
    meta = GOOGLE.with_overrides(
        {"token": "http://127.0.0.1:9/token", "jwks_uri": "http://127.0.0.1:9/certs"}
    )
    assert meta.token_endpoint == "http://127.0.0.1:9/token"
    assert meta.jwks_uri == "http://127.0.0.1:9/certs"
    assert meta.issuers == GOOGLE.issuers
    meta = GOOGLE.with_overrides({"issuer": "http://127.0.0.1:9"})
    assert meta.issuers == ("http://127.0.0.1:9",)
    meta = GOOGLE.with_overrides({"issuer": "x", "issuer_aliases": ["y"]})  # type: ignore[dict-item]
    assert meta.issuers == ("x", "y")
    with pytest.raises(ValueError, match="unknown provider endpoint"):
        GOOGLE.with_overrides({"tokn": "https://x"})


# -- ProviderClient: metadata and discovery ----------------------------------


def test_client_defaults_to_google() -> None:
    client = ProviderClient()
    assert client.metadata is GOOGLE


def test_client_checks_given_metadata_and_overrides() -> None:
    with pytest.raises(InsecureTransportError):
        ProviderClient(overrides={"token": "http://evil.example/token"})
    with pytest.raises(ValueError):
        ProviderClient(overrides={"nope": "https://x"})
    with pytest.raises(ValueError):
        ProviderClient(GOOGLE, discovery_url=DISCOVERY)
    with pytest.raises(InsecureTransportError):
        ProviderClient(discovery_url="http://idp.example/.well-known/openid-configuration")
    with pytest.raises(ValueError):
        ProviderClient(discovery_url=DISCOVERY, overrides={"nope": "https://x"})


@responses.activate
def test_discovery_is_fetched_once_and_overrides_apply() -> None:
    responses.get(DISCOVERY, json=discovery_document())
    client = ProviderClient(
        discovery_url=DISCOVERY, overrides={"userinfo": "https://other.example/userinfo"}
    )
    assert client.metadata.token_endpoint == "https://idp.example/token"
    assert client.metadata.userinfo_endpoint == "https://other.example/userinfo"
    assert len(responses.calls) == 1


@responses.activate
def test_discovery_failure_is_retried_on_next_use() -> None:
    responses.get(DISCOVERY, status=503)
    client = ProviderClient(discovery_url=DISCOVERY)
    with pytest.raises(ProviderUnavailableError) as info:
        client.metadata  # noqa: B018
    assert info.value.endpoint == "discovery" and info.value.status == 503
    responses.replace(responses.GET, DISCOVERY, json=discovery_document())
    assert client.metadata.issuer == "https://idp.example"


@responses.activate
def test_discovery_issuer_mismatch() -> None:
    responses.get(DISCOVERY, json=discovery_document(issuer="https://evil.example"))
    with pytest.raises(MalformedResponseError):
        ProviderClient(discovery_url=DISCOVERY).metadata  # noqa: B018


@responses.activate
def test_discovery_with_insecure_endpoint() -> None:
    """The provider's document is at fault: a malformed answer (502), not a config error."""
    responses.get(DISCOVERY, json=discovery_document(jwks_uri="http://idp.example/jwks"))
    with pytest.raises(MalformedResponseError) as caught:
        ProviderClient(discovery_url=DISCOVERY).metadata  # noqa: B018
    assert caught.value.endpoint == "discovery"
    assert "idp.example" in str(caught.value)


@responses.activate
def test_insecure_endpoint_override_stays_a_configuration_error() -> None:
    responses.get(DISCOVERY, json=discovery_document())
    client = ProviderClient(
        discovery_url=DISCOVERY, overrides={"token_endpoint": "http://idp.example/token"}
    )
    with pytest.raises(InsecureTransportError):
        client.metadata  # noqa: B018


@responses.activate
def test_discovery_concurrent_first_use_fetches_once() -> None:
    responses.get(DISCOVERY, json=discovery_document())
    client = ProviderClient(discovery_url=DISCOVERY)
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(client.metadata.issuer)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == ["https://idp.example"] * 8
    assert len(responses.calls) == 1


# -- ProviderClient: calls ----------------------------------------------------


@responses.activate
def test_get_json_returns_body_and_headers() -> None:
    responses.get(
        "https://idp.example/jwks", json={"keys": []}, headers={"Cache-Control": "max-age=5"}
    )
    body, headers = ProviderClient().get_json("https://idp.example/jwks", endpoint="certs")
    assert body == {"keys": []}
    assert headers["cache-control"] == "max-age=5"
    assert responses.calls[0].request.headers["Accept"] == "application/json"


@responses.activate
def test_timeout_maps_to_provider_timeout() -> None:
    responses.get("https://idp.example/jwks", body=requests.ReadTimeout("slow"))
    responses.post("https://idp.example/token", body=requests.ConnectTimeout("slow"))
    client = ProviderClient(timeout=2.5)
    with pytest.raises(ProviderTimeoutError) as info:
        client.get_json("https://idp.example/jwks", endpoint="certs")
    assert info.value.endpoint == "certs" and "2.5" in str(info.value)
    assert isinstance(info.value, TimeoutError)
    with pytest.raises(ProviderTimeoutError):
        client.post_form("https://idp.example/token", {"code": "c"}, endpoint="token")


@responses.activate
def test_connection_error_maps_to_unavailable() -> None:
    responses.get("https://idp.example/jwks", body=requests.ConnectionError("refused"))
    with pytest.raises(ProviderUnavailableError) as info:
        ProviderClient().get_json("https://idp.example/jwks", endpoint="certs")
    assert info.value.status is None


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_maps_to_unavailable_without_body(status: int) -> None:
    responses.get("https://idp.example/jwks", status=status, body=f"oops {SECRET}")
    responses.post("https://idp.example/token", status=status, body=f"oops {SECRET}")
    client = ProviderClient()
    with pytest.raises(ProviderUnavailableError) as info:
        client.get_json("https://idp.example/jwks", endpoint="certs")
    assert info.value.status == status and SECRET not in str(info.value)
    with pytest.raises(ProviderUnavailableError) as info:
        client.post_form("https://idp.example/token", {"code": SECRET}, endpoint="token")
    assert "token" in str(info.value) and SECRET not in str(info.value)


@responses.activate
@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"string"', "null", ""])
def test_non_object_json_is_malformed(body: str) -> None:
    responses.get("https://idp.example/userinfo", body=f"{body}")
    with pytest.raises(MalformedResponseError) as info:
        ProviderClient().get_json("https://idp.example/userinfo", endpoint="userinfo")
    assert info.value.endpoint == "userinfo"


@responses.activate
@pytest.mark.parametrize("status", [301, 302, 401, 404])
def test_get_json_non_2xx_and_no_redirects(status: int) -> None:
    responses.get(
        "https://idp.example/jwks",
        status=status,
        json={"token": SECRET},
        headers={"Location": "https://evil.example/"},
    )
    with pytest.raises(ProviderUnavailableError) as info:
        ProviderClient().get_json("https://idp.example/jwks", endpoint="certs")
    assert info.value.status == status and SECRET not in str(info.value)
    assert len(responses.calls) == 1


@responses.activate
def test_post_form_returns_4xx_responses_and_sends_a_form() -> None:
    responses.post("https://idp.example/token", status=400, json={"error": "invalid_grant"})
    response = ProviderClient().post_form(
        "https://idp.example/token",
        {"grant_type": "authorization_code"},
        endpoint="token",
        auth=("id", "secret"),
    )
    assert response.status_code == 400
    request = responses.calls[0].request
    assert request.body == "grant_type=authorization_code"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_the_shared_session_keeps_no_cookies() -> None:
    responses.post(
        "https://idp.example/token",
        json={"error": "invalid_grant"},
        status=400,
        headers={"Set-Cookie": "affinity=user-a; Path=/"},
    )
    client = ProviderClient()
    for _ in range(2):
        client.post_form("https://idp.example/token", {"a": "b"}, endpoint="token")
    assert "Cookie" not in responses.calls[1].request.headers  # no user's cookie


@responses.activate
@pytest.mark.parametrize(("status", "result"), [(200, True), (400, False)])
def test_revoke(status: int, result: bool) -> None:
    responses.post(GOOGLE.revocation_endpoint, status=status)
    assert ProviderClient().revoke(SECRET) is result
    request = responses.calls[0].request
    assert request.url == GOOGLE.revocation_endpoint  # the token is not in the URL
    assert request.body == f"token={SECRET}"


@responses.activate
@pytest.mark.parametrize("status", [401, 404, 500, 503])
def test_revoke_failures(status: int) -> None:
    responses.post(GOOGLE.revocation_endpoint, status=status, body=SECRET)
    with pytest.raises(ProviderUnavailableError) as info:
        ProviderClient().revoke(SECRET)
    assert info.value.status == status and SECRET not in str(info.value)
    assert info.value.endpoint == "revoke"


def test_revoke_without_endpoint() -> None:
    client = ProviderClient(overrides={"revoke": None})  # type: ignore[dict-item]
    with pytest.raises(ProviderUnavailableError):
        client.revoke(SECRET)


@responses.activate
def test_certs_cache_is_created_once_for_jwks_uri() -> None:
    responses.get(GOOGLE.jwks_uri, json={"keys": []})
    client = ProviderClient(clock=lambda: 5.0)
    certs = client.certs
    assert isinstance(certs, CertsCache)
    assert certs is client.certs
    assert certs.url == GOOGLE.jwks_uri
    with pytest.raises(MalformedResponseError):
        certs.get_key("x")  # no keys in the document: fetched through get_json
    assert len(responses.calls) == 1


def test_trust_env_option() -> None:
    assert ProviderClient().trust_env is True
    assert ProviderClient(trust_env=False).trust_env is False
    # Either way requests itself does not read the environment per call.
    assert ProviderClient().session.trust_env is False


def test_timeout_on_a_real_slow_server() -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts TCP connections, never answers
    try:
        port = listener.getsockname()[1]
        client = ProviderClient(timeout=0.2)
        with pytest.raises(ProviderTimeoutError):
            client.get_json(f"http://127.0.0.1:{port}/slow", endpoint="certs")
    finally:
        listener.close()


def test_closed_port_is_unavailable() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(ProviderUnavailableError):
        ProviderClient(timeout=1).get_json(f"http://127.0.0.1:{port}/", endpoint="certs")


# -- connection reuse on a real server ---------------------------------------


class CountingServer:
    """A threaded HTTP/1.1 keep-alive server recording the client port of every request.

    (werkzeug's development server always answers ``Connection: close``, so
    it cannot show connection reuse; :mod:`http.server` with HTTP/1.1 can.)
    """

    def __init__(self) -> None:
        self.ports: list[int] = []
        ports = self.ports

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = 65536  # one write per response; flushed after each request

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                ports.append(self.client_address[1])
                body = b"" if self.path == "/revoke" else b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    srv = CountingServer()
    yield srv
    srv.close()


def test_one_tcp_connection_for_many_requests(server: CountingServer) -> None:
    client = ProviderClient(overrides={"revoke": server.url + "/revoke"}, trust_env=False)
    for _ in range(5):
        assert client.get_json(server.url + "/json", endpoint="certs")[0] == {"ok": True}
        client.post_form(server.url + "/token", {"a": "b"}, endpoint="token")
    assert client.revoke("t") is True
    assert len(server.ports) == 11
    assert len(set(server.ports)) == 1
    client.close()


def test_mount_shares_the_pool_and_survives_close(server: CountingServer) -> None:
    client = ProviderClient(trust_env=False)
    client.get_json(server.url + "/json", endpoint="certs")
    for _ in range(3):
        other = requests.Session()
        other.trust_env = False
        assert client.mount(other) is other
        other.post(server.url + "/token", data={"a": "b"}, timeout=5)
        other.close()  # must not close the shared pool
    client.get_json(server.url + "/json", endpoint="certs")
    assert len(server.ports) == 5
    assert len(set(server.ports)) == 1
    assert client.adapter is client.session.get_adapter("https://x")


def test_client_is_usable_after_close(server: CountingServer) -> None:
    client = ProviderClient(trust_env=False)
    client.get_json(server.url + "/json", endpoint="certs")
    client.close()
    client.get_json(server.url + "/json", endpoint="certs")
    assert len(set(server.ports)) == 2


def test_concurrent_requests_share_the_pool(server: CountingServer) -> None:
    client = ProviderClient(trust_env=False, pool_maxsize=4)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            for _ in range(10):
                client.get_json(server.url + "/json", endpoint="certs")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(server.ports) == 40
    assert len(set(server.ports)) <= 4
