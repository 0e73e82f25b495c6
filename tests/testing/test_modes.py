"""The two ways to run the fake: in-process via ``responses``, and as a real server."""

from __future__ import annotations

import socket
from urllib.parse import urlencode

import pytest
import requests
import responses

from flask_google_flow.testing import FakeGoogle

from .conftest import REDIRECT_URI, pkce_pair, query


def test_discovery_document(google):
    fake = google.fake
    response = google.session.get(fake.discovery_url, timeout=5)
    document = response.json()
    endpoints = fake.endpoints
    assert document["issuer"] == fake.issuer
    assert document["authorization_endpoint"] == endpoints.authorization
    assert document["token_endpoint"] == endpoints.token
    assert document["userinfo_endpoint"] == endpoints.userinfo
    assert document["revocation_endpoint"] == endpoints.revocation
    assert document["jwks_uri"] == endpoints.jwks
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert response.headers["Cache-Control"].startswith("public")


def test_intercept_refuses_unmatched_urls(fake):
    with fake.intercept(), pytest.raises(requests.ConnectionError):
        requests.get("https://www.googleapis.com/drive/v3/files", timeout=5)


def test_intercept_allow_network_adds_passthrough_prefixes(fake):
    with fake.intercept(allow_network=["http://127.0.0.1:1/"]) as mock:
        assert "http://127.0.0.1:1/" in mock.passthru_prefixes
        with pytest.raises(requests.ConnectionError):
            requests.get("http://127.0.0.1:1/", timeout=1)  # really tried: nothing listens


def test_intercept_onto_an_existing_mock_and_clean_up(fake):
    with responses.RequestsMock() as mock:
        mock.get("https://www.googleapis.com/drive/v3/files", json={"files": []})
        with fake.intercept(mock) as active:
            assert active is mock
            assert requests.get(fake.endpoints.jwks, timeout=5).json()["keys"]
            assert requests.get("https://www.googleapis.com/drive/v3/files", timeout=5).ok
        assert len(mock.registered()) == 1
        with pytest.raises(requests.ConnectionError):
            requests.get(fake.endpoints.jwks, timeout=5)


@responses.activate
def test_intercept_onto_the_default_responses_mock(fake):
    with fake.intercept(responses.mock):
        assert requests.get(fake.discovery_url, timeout=5).json()["issuer"] == fake.issuer


def test_custom_base_url_in_process():
    fake = FakeGoogle(base_url="https://idp.test/")
    assert fake.issuer == "https://idp.test"
    with fake.intercept():
        assert requests.get("https://idp.test/oauth2/v3/certs", timeout=5).ok


def _port_is_free(port: int) -> bool:
    """Whether a new server could listen on *port* now.

    ``SO_REUSEADDR`` as servers (werkzeug included) set it: connections of the
    stopped server lingering in TIME_WAIT do not count, a listening socket
    still open does (Linux refuses the bind then).
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    return True


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_server_start_stop_frees_both_ports(fake, session):
    base_url = fake.start()
    front, back = fake.front_channel_url, fake.back_channel_url
    fake.trust(session)
    try:
        assert fake.is_running
        assert base_url == back == fake.issuer
        assert front.startswith("http://127.0.0.1:") and back.startswith("https://127.0.0.1:")
        assert session.get(fake.discovery_url, timeout=5).json()["issuer"] == base_url
        with pytest.raises(RuntimeError, match="already running"):
            fake.start()
    finally:
        fake.stop()
    assert not fake.is_running
    assert fake.front_channel_url is None and fake.back_channel_url is None
    assert fake.issuer == "https://accounts.google.com"
    assert _port_is_free(_port(front)) and _port_is_free(_port(back))
    with pytest.raises(requests.ConnectionError):
        session.get(base_url + "/oauth2/v3/certs", timeout=1)
    fake.stop()  # a no-op


def test_a_busy_tls_port_fails_start_and_frees_the_other(fake):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(OSError):
            fake.start(tls_port=busy.getsockname()[1])
    assert not fake.is_running
    with fake.serve():  # nothing of the failed start is left behind
        assert fake.is_running


def test_serve_context_manager_and_restart(fake, session):
    for _ in range(2):
        with fake.serve() as base_url:
            fake.trust(session)
            assert session.get(base_url + "/oauth2/v1/certs", timeout=5).ok
        assert not fake.is_running


def test_flask_test_client_login_with_no_network():
    """A minimal Flask app doing its own code exchange completes a login in-process."""
    flask = pytest.importorskip("flask")
    fake = FakeGoogle()
    config = fake.client_config()["web"]
    app = flask.Flask(__name__)
    app.secret_key = "test"

    @app.get("/login")
    def login():
        verifier, challenge = pkce_pair()
        flask.session["verifier"] = verifier
        params = {
            "client_id": config["client_id"],
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid email",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return flask.redirect(f"{config['auth_uri']}?{urlencode(params)}")

    @app.get("/oauth2callback")
    def callback():
        token = requests.post(
            config["token_uri"],
            data={
                "grant_type": "authorization_code",
                "code": flask.request.args["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": flask.session["verifier"],
            },
            auth=(config["client_id"], config["client_secret"]),
            timeout=5,
        ).json()
        info = requests.get(
            "https://openidconnect.googleapis.com/v1/userinfo",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=5,
        ).json()
        return info["email"]

    client = app.test_client()
    with fake.intercept():
        authorization_url = client.get("/login").headers["Location"]
        callback_url = fake.approve(authorization_url)
        assert query(callback_url)["state"] == "s1"
        response = client.get(callback_url)
    assert response.text == fake.default_account.email


def test_concurrent_logins_against_the_real_server(server):
    from concurrent.futures import ThreadPoolExecutor

    def login(_: int) -> str:
        with requests.Session() as session:
            session.trust_env = False
            server.fake.trust(session)
            url, verifier = server.authorization_url()
            callback = server.fake.approve(url)
            response = session.post(
                server.fake.endpoints.token,
                data={
                    "grant_type": "authorization_code",
                    "code": query(callback)["code"],
                    "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier,
                },
                auth=(
                    server.fake.default_client.client_id,
                    server.fake.default_client.client_secret,
                ),
                timeout=5,
            )
            return response.json()["access_token"]

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(login, range(24)))
    assert len(set(tokens)) == 24
    assert server.fake.request_counts["token"] == 24


def test_fake_clock_only_moves_forward():
    from flask_google_flow.testing import FakeClock

    clock = FakeClock(start=1000)
    assert clock.advance(5) == clock() == 1005
    with pytest.raises(ValueError):
        clock.advance(-1)
