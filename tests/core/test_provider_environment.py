"""ProviderClient asks requests about the environment once, through public APIs.

Proxies and the CA bundle must be what a plain ``requests.Session`` would use,
for the shared session and for every session that borrows the pool
(:meth:`ProviderClient.mount`), without requests reading the environment again
on every call.
"""

from __future__ import annotations

import pytest
import requests

from flask_google_flow.core.provider import GOOGLE, ProviderClient

TOKEN = GOOGLE.token_endpoint


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    """No proxy or CA-bundle variable of the machine running the tests."""
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)


def _settings(session: requests.Session, url: str) -> dict:
    return session.merge_environment_settings(url, {}, None, None, None)


def test_same_proxies_and_ca_bundle_as_requests(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/bundle.pem")
    plain = requests.Session()
    client = ProviderClient()
    for url in (TOKEN, "https://internal.example/token"):
        client.use_environment(url)
        expected = _settings(plain, url)
        ours = _settings(client.session, url)
        assert ours["verify"] == expected["verify"] == "/tmp/bundle.pem"
        assert requests.utils.select_proxy(url, ours["proxies"]) == requests.utils.select_proxy(
            url, expected["proxies"]
        )
    assert requests.utils.select_proxy(TOKEN, client.session.proxies) == (
        "http://proxy.example:3128"
    )
    assert requests.utils.select_proxy("https://internal.example/x", client.session.proxies) is None


def test_the_environment_is_not_read_per_request(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://first.example:3128")
    client = ProviderClient()  # Google's endpoints are resolved here
    assert client.session.trust_env is False  # requests does not scan os.environ per call
    monkeypatch.setenv("HTTPS_PROXY", "http://second.example:3128")
    assert client.session.proxies["https://oauth2.googleapis.com"] == "http://first.example:3128"
    client.use_environment("https://other.example/")  # a new host is asked at first use
    assert client.session.proxies["https://other.example"] == "http://second.example:3128"


def test_trust_env_false_ignores_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/bundle.pem")
    client = ProviderClient(trust_env=False)
    client.use_environment("https://other.example/")
    assert client.session.proxies == {}
    assert client.session.verify is True


def test_mounted_sessions_carry_the_transport_settings(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = ProviderClient()
    client.session.verify = "/etc/app/ca.pem"  # e.g. a configured CA bundle
    client.session.cert = ("/etc/app/client.pem", "/etc/app/client.key")
    other = client.mount(requests.Session())
    assert other.verify == "/etc/app/ca.pem"
    assert other.cert == client.session.cert
    assert other.trust_env is False
    assert requests.utils.select_proxy(TOKEN, other.proxies) == "http://proxy.example:3128"
    merged = _settings(other, TOKEN)
    assert merged["verify"] == "/etc/app/ca.pem"
