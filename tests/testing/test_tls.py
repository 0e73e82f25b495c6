"""The real server's two listeners: http front channel, https back channel with a throw-away CA."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import stat
import subprocess
import sys

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from requests.adapters import HTTPAdapter

from flask_google_flow.testing import FakeGoogle
from flask_google_flow.testing._tls import (
    default_ca_bundle,
    issue_server_cert,
    make_ca,
    throwaway_tls,
)
from tests.conftest import require

from .conftest import REDIRECT_URI, query


@pytest.fixture
def running(fake):
    with fake.serve():
        yield fake


def test_the_back_channel_is_https_and_untrusted_without_the_ca(running):
    assert running.endpoints.token.startswith("https://127.0.0.1:")
    with requests.Session() as plain, pytest.raises(requests.exceptions.SSLError):
        plain.get(running.discovery_url, timeout=5, verify=default_ca_bundle())
    http_url = running.discovery_url.replace("https://", "http://", 1)
    with pytest.raises(requests.ConnectionError):  # no plain-http answer on the TLS port
        requests.get(http_url, timeout=5)


def test_the_bundle_trusts_it_and_still_holds_the_public_cas(running):
    response = requests.get(running.discovery_url, timeout=5, verify=running.ca_bundle)
    assert response.json()["issuer"] == running.issuer
    with open(running.ca_bundle, "rb") as file:
        bundle = file.read()
    with open(default_ca_bundle(), "rb") as file:
        public = file.read()
    with open(running.ca_cert, "rb") as file:
        ca = file.read()
    assert bundle.startswith(public.rstrip(b"\n")) and bundle.endswith(ca)
    context = ssl.create_default_context(cafile=running.ca_bundle)
    assert len(context.get_ca_certs()) > 1


def test_the_front_channel_is_plain_http_and_serves_only_the_consent_page(running, session):
    url, _ = _authorization_url(running)
    assert url.startswith("http://127.0.0.1:")
    page = session.get(url, timeout=5)
    assert page.status_code == 200 and 'id="fake-google-banner"' in page.text
    front = running.front_channel_url
    for path in ("/.well-known/openid-configuration", "/oauth2/v3/certs"):
        answer = session.get(front + path, timeout=5)
        assert answer.status_code == 404
        assert running.back_channel_url in answer.text
    token = session.post(front + "/token", data={"grant_type": "refresh_token"}, timeout=5)
    assert token.status_code == 404 and running.request_counts["token"] == 0


def test_the_back_channel_does_not_serve_the_consent_page(running, session):
    url, _ = _authorization_url(running)
    on_back = url.replace(running.front_channel_url, running.back_channel_url, 1)
    answer = running.trust(session).get(on_back, timeout=5)
    assert answer.status_code == 404
    assert running.endpoints.authorization in answer.text
    assert running.request_counts["authorize"] == 0


def test_a_sign_in_across_both_channels(running, session):
    running.trust(session)
    url, verifier = _authorization_url(running)
    callback = running.approve(url)
    assert query(callback)["iss"] == running.back_channel_url
    token = session.post(
        running.endpoints.token,
        data={
            "grant_type": "authorization_code",
            "code": query(callback)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(running.default_client.client_id, running.default_client.client_secret),
        timeout=5,
    ).json()
    info = session.get(
        running.endpoints.userinfo,
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    )
    assert info.json()["email"] == running.default_account.email


def test_client_config_and_discovery_point_at_the_right_channel(running, session):
    config = running.client_config()["web"]
    front, back = running.front_channel_url, running.back_channel_url
    assert config["auth_uri"].startswith(front + "/")
    assert config["token_uri"].startswith(back + "/")
    assert config["auth_provider_x509_cert_url"].startswith(back + "/")
    document = running.trust(session).get(running.discovery_url, timeout=5).json()
    assert document["authorization_endpoint"].startswith(front + "/")
    for name in ("token_endpoint", "userinfo_endpoint", "revocation_endpoint", "jwks_uri"):
        assert document[name].startswith(back + "/"), name


def test_trust_overrides_requests_ca_bundle_and_touches_no_other_url(running, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", default_ca_bundle())
    with requests.Session() as session:
        session.verify = running.ca_bundle
        with pytest.raises(requests.exceptions.SSLError):  # requests lets the variable win
            session.get(running.discovery_url, timeout=5)
        running.trust(session)
        assert session.get(running.discovery_url, timeout=5).ok
        assert type(session.get_adapter("https://accounts.google.com/")) is HTTPAdapter


def test_trust_needs_a_running_server(fake):
    with pytest.raises(RuntimeError, match="start the fake"):
        fake.trust(requests.Session())


def test_a_silent_client_does_not_stall_the_tls_listener(running, session):
    host, port = "127.0.0.1", int(running.back_channel_url.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=5):  # connects, never says hello
        assert running.trust(session).get(running.discovery_url, timeout=5).ok


def test_localhost_is_covered_by_the_certificate():
    fake = FakeGoogle()
    with fake.serve(host="localhost") as base_url:
        assert base_url.startswith("https://localhost:")
        assert requests.get(fake.discovery_url, verify=fake.ca_cert, timeout=5).ok


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_ipv6_loopback_is_covered_by_the_certificate():
    require(_ipv6_loopback(), "this machine has no IPv6 loopback", "enable IPv6 on lo")
    fake = FakeGoogle()
    with fake.serve(host="::1") as base_url:
        assert base_url.startswith("https://[::1]:")
        assert fake.front_channel_url.startswith("http://[::1]:")
        assert requests.get(fake.discovery_url, verify=fake.ca_cert, timeout=5).ok


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> None:
    """A TLS handshake in memory; raises what the client's verification raises."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        done = 0
        for side in (client_side, server_side):
            try:
                side.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if done == 2:
            return
    raise AssertionError("the handshake did not finish")


def _serving(cert: x509.Certificate, key, tmp_path) -> ssl.SSLContext:
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.mark.parametrize(
    "name",
    [x509.DNSName("accounts.google.com"), x509.IPAddress(ipaddress.ip_address("10.0.0.1"))],
    ids=["dns", "ip"],
)
def test_the_throwaway_ca_cannot_vouch_for_another_host(tmp_path, name):
    """A bundle with the CA in it trusts nothing new for real hosts, even if the CA key leaked."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca, ca_key = make_ca(now)
    trusting = ssl.create_default_context(
        cadata=ca.public_bytes(serialization.Encoding.PEM).decode()
    )
    loopback = _serving(*issue_server_cert(ca, ca_key, now), tmp_path)
    _handshake(loopback, trusting, "localhost")  # the control: loopback is vouched for
    forged = _serving(*issue_server_cert(ca, ca_key, now, [name]), tmp_path)
    hostname = str(name.value)
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Pp]ermitted|constraint"):
        _handshake(forged, trusting, hostname)


def test_the_files_are_private_and_hold_no_ca_key():
    material = throwaway_tls()
    assert stat.S_IMODE(os.stat(material.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(material.private_key).st_mode) == 0o600
    assert sorted(os.listdir(material.directory)) == [
        "ca-bundle.pem",
        "ca.pem",
        "server.key",
        "server.pem",
    ]
    with open(material.private_key, "rb") as file:
        key = serialization.load_pem_private_key(file.read(), None)
    with open(material.cert_chain, "rb") as file:
        server_cert = x509.load_pem_x509_certificate(file.read())
    with open(material.ca_cert, "rb") as file:
        ca_cert = x509.load_pem_x509_certificate(file.read())
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert key.public_key().public_bytes(der, public) == server_cert.public_key().public_bytes(
        der, public
    )
    assert key.public_key().public_bytes(der, public) != ca_cert.public_key().public_bytes(
        der, public
    )


def test_the_material_is_made_once_per_process_and_removed_at_exit():
    assert throwaway_tls() is throwaway_tls()
    assert FakeGoogle().ca_bundle == FakeGoogle().ca_bundle
    script = (
        "from flask_google_flow.testing import FakeGoogle\n"
        "fake = FakeGoogle()\n"
        "with fake.serve():\n"
        "    print(fake.ca_bundle, flush=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    bundle = result.stdout.strip()
    assert bundle.endswith("ca-bundle.pem")
    assert not os.path.exists(os.path.dirname(bundle))


def _authorization_url(fake: FakeGoogle) -> tuple[str, str]:
    from .conftest import Google

    return Google(fake, fake.clock, requests.Session(), "server").authorization_url()
