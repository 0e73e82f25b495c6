"""Each sign-in runs a web-type ``Flow`` on the app's pooled connections and transport settings."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.exceptions import InsecureTransportError
from flask_google_flow.ext import views
from flask_google_flow.flow import Flow
from flask_google_flow.testing._tls import throwaway_tls
from tests.sign_in_helpers import CALLBACK, callback_path, query_of, sign_in, start

# -- which Flow the routes build -------------------------------------------------------


@pytest.fixture
def flows(monkeypatch) -> list[Flow]:
    """Every ``Flow`` the routes create, in order, with the calls made on it."""
    created: list[Flow] = []

    class Recording(Flow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.calls: list[tuple[str, dict]] = []
            created.append(self)

        def authorization_url(self, **kwargs):
            self.calls.append(("authorization_url", dict(kwargs)))
            return super().authorization_url(**kwargs)

        def fetch_token(self, **kwargs):
            self.calls.append(("fetch_token", dict(kwargs)))
            return super().fetch_token(**kwargs)

    monkeypatch.setattr(views, "Flow", Recording)
    return created


def test_authorize_and_callback_each_run_a_web_flow(client, fake, stored, flows):
    location = start(client, next="/profile")
    [first] = flows
    assert first.client_type == "web"
    [(name, kwargs)] = first.calls
    assert name == "authorization_url"
    sent = query_of(location)
    assert kwargs["state"] == sent["state"] and kwargs["nonce"] == sent["nonce"]
    assert first.redirect_uri == CALLBACK
    assert first.code_verifier and len(first.code_verifier) >= 43

    callback = fake.approve(location)
    assert client.get(callback_path(callback)).status_code == 302
    second = flows[1]
    assert second.redirect_uri == CALLBACK
    assert second.code_verifier == first.code_verifier  # the pending flow's verifier
    [(name, exchange)] = second.calls
    assert name == "fetch_token"
    assert exchange == {"code": query_of(callback)["code"]}
    [(credentials, _id_info)] = stored
    assert credentials.token == second.oauth2session.token["access_token"]


def test_the_flow_session_borrows_the_apps_pool_and_transport(
    app, client, fake, flows, monkeypatch
):
    provider = app.extensions["google_flow"].provider
    provider.session.verify = "/etc/app/ca-bundle.pem"  # as GOOGLE_FLOW_CA_BUNDLE would
    sign_in(client, fake)  # the exchange fails on that bundle: only the session is checked here
    session = flows[1].oauth2session  # the callback's flow sends the token request
    assert session.verify == "/etc/app/ca-bundle.pem"
    assert session.trust_env is False
    assert session.proxies == provider.session.proxies
    session.close()  # closing the per-sign-in session leaves the pool open

    provider.session.verify = True
    sent: list[str] = []
    shared_send = provider.adapter.send

    def recording_send(request, **kwargs):
        sent.append(request.url)
        return shared_send(request, **kwargs)

    monkeypatch.setattr(provider.adapter, "send", recording_send)
    assert sign_in(client, fake).status_code == 302
    assert fake.endpoints.token in sent  # the code exchange went through the shared pool


def test_each_sign_in_has_its_own_flows_and_its_own_exchange_session(client, fake, flows):
    """/authorize's flows share the session they build URLs on; each exchange has its own."""
    first, second = start(client), start(client)
    assert len(flows) == 2 and flows[0] is not flows[1]
    assert flows[0].oauth2session is flows[1].oauth2session  # builds URLs, sends nothing
    assert flows[0].code_verifier != flows[1].code_verifier
    assert query_of(first)["state"] != query_of(second)["state"]
    shared = flows[0].oauth2session
    assert not shared.token and not list(shared.cookies)  # nothing of a sign-in is kept on it

    for location in (first, second):
        assert client.get(callback_path(fake.approve(location))).status_code == 302
    exchanges = flows[2:]
    assert len(exchanges) == 2
    assert exchanges[0].oauth2session is not exchanges[1].oauth2session
    assert exchanges[0].oauth2session.cookies is not exchanges[1].oauth2session.cookies
    assert all(flow.oauth2session is not shared for flow in exchanges)
    assert not shared.token and not list(shared.cookies)


def test_a_token_endpoint_the_flow_refuses_is_a_clean_502(app, client, fake, stored, monkeypatch):
    """E.g. a provider-named plain-http token endpoint: the provider's fault, never a 500."""

    def refuse(self, **kwargs):
        raise InsecureTransportError("the token endpoint uses plain http")

    monkeypatch.setattr(Flow, "fetch_token", refuse)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = sign_in(client, fake)
    assert response.status_code == 502
    assert "Traceback" not in response.get_data(as_text=True)
    assert stored == []


def test_a_refresh_token_is_carried_over_through_the_flow(client, fake, stored, flows):
    """Google sends a refresh token on the first consent only; the second sign-in keeps it."""
    assert sign_in(client, fake).status_code == 302
    first = stored[-1][0].refresh_token
    assert first
    assert sign_in(client, fake).status_code == 302
    assert "refresh_token" not in flows[-1].calls[0][1]  # nothing extra was sent
    assert stored[-1][0].refresh_token == first
    assert stored[-1][0].token != stored[0][0].token


# -- over real TLS: one connection, the app's CA bundle --------------------------------


class TokenServer:
    """An https token endpoint on 127.0.0.1 that counts TCP connections and requests."""

    def __init__(self, cert: Path, key: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.accepts = 0
        self.requests = 0
        owner = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super().get_request()
                owner.accepts += 1
                return context.wrap_socket(sock, server_side=True), address

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.requests += 1
                body = json.dumps(
                    {
                        "access_token": f"at-{owner.requests}",
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "scope": "email",
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tls() -> Iterator[tuple[TokenServer, Path]]:
    material = throwaway_tls()  # the testing kit's CA, as the fake Google's server uses it
    server = TokenServer(Path(material.cert_chain), Path(material.private_key))
    yield server, Path(material.ca_cert)
    server.close()


def _tls_app(tmp_path: Path, token_url: str) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_SCOPES=["email"],  # no ID token to verify: only the code exchange is tested
        GOOGLE_CLIENT_CONFIG={
            "web": {
                "client_id": "tls-client",
                "client_secret": "tls-secret",
                "auth_uri": "https://login.example/auth",
                "token_uri": token_url,
                "redirect_uris": [CALLBACK],
            }
        },
        GOOGLE_FLOW_ISSUER="https://login.example",
        GOOGLE_FLOW_JWKS_URI="https://login.example/certs",
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False
    GoogleFlow(app, store=lambda credentials, id_info: None)
    return app


def _login(app: Flask) -> int:
    client = app.test_client()
    state = query_of(start(client))["state"]
    return client.get("/oauth2callback", query_string={"state": state, "code": "c"}).status_code


def test_logins_reuse_one_tls_connection_with_the_apps_ca_bundle(tls, tmp_path):
    server, ca = tls
    app = _tls_app(tmp_path, server.url)
    app.extensions["google_flow"].provider.session.verify = str(ca)
    assert [_login(app) for _ in range(4)] == [302] * 4
    assert server.requests == 4
    assert server.accepts == 1  # no new TCP/TLS connection per login


def test_the_code_exchange_uses_the_providers_verify(tls, tmp_path):
    """Without the CA bundle on the provider's session the throw-away CA is not trusted."""
    server, _ca = tls
    app = _tls_app(tmp_path, server.url)
    assert _login(app) == 502  # SSLError: the provider's fault as far as the browser knows
    assert server.requests == 0


def test_the_flow_has_the_apps_http_timeout(make_app, fake, flows):
    app = make_app(config={"GOOGLE_FLOW_HTTP_TIMEOUT": "2.5"})
    assert sign_in(app.test_client(), fake).status_code == 302
    assert [flow.timeout for flow in flows] == [2.5, 2.5]


def test_the_flow_session_gets_the_environments_proxy_for_the_token_endpoint(
    make_app, fake, flows, monkeypatch
):
    for name in ("https_proxy", "all_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    app = make_app()
    state = app.extensions["google_flow"]
    with app.test_request_context():
        session = views.new_flow(state, ["openid"], CALLBACK, "v" * 43).oauth2session
    token_endpoint = app.extensions["google_flow"].metadata.token_endpoint
    assert requests.utils.select_proxy(token_endpoint, session.proxies) == (
        "http://proxy.example:3128"
    )
    assert session.trust_env is False  # resolved once, not per request
