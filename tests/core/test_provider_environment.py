"""The cached proxy-environment lookup of ProviderClient (requests' semantics, read once)."""

from __future__ import annotations

import requests

from flask_google_flow.core.provider import EnvironmentCache, ProviderClient

URL = "https://oauth2.googleapis.com/token"


def test_same_answer_as_requests(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/bundle.pem")
    plain = requests.Session()
    cached = EnvironmentCache().install(requests.Session())
    for url in (URL, "https://internal.example/token", "http://127.0.0.1:1/x"):
        expected = plain.merge_environment_settings(url, {}, None, None, None)
        assert cached.merge_environment_settings(url, {}, None, None, None) == expected
    # An explicit verify is kept, as requests does.
    assert cached.merge_environment_settings(URL, {}, None, False, None)["verify"] is False


def test_proxies_are_read_once_per_host(monkeypatch) -> None:
    cache = EnvironmentCache()
    monkeypatch.setenv("HTTPS_PROXY", "http://first.example:3128")
    assert cache.environ_proxies(URL)["https"] == "http://first.example:3128"
    monkeypatch.setenv("HTTPS_PROXY", "http://second.example:3128")
    assert cache.environ_proxies(URL)["https"] == "http://first.example:3128"
    assert cache.environ_proxies("https://other.example/")["https"] == "http://second.example:3128"


def test_trust_env_false_ignores_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    session = EnvironmentCache().install(requests.Session())
    session.trust_env = False
    assert session.merge_environment_settings(URL, {}, None, None, None)["proxies"] == {}


def test_mount_installs_the_cache_on_borrowing_sessions() -> None:
    client = ProviderClient()
    other = client.mount(requests.Session())
    assert other.merge_environment_settings.__func__ is not (
        requests.Session.merge_environment_settings
    )
    assert client.session.trust_env is True
