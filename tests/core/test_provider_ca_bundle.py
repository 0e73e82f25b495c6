"""``GOOGLE_FLOW_CA_BUNDLE`` / ``ProviderClient(verify=...)`` against an https provider.

The provider is the fake Google's https back channel, whose certificate only
its throw-away CA vouches for. ``REQUESTS_CA_BUNDLE`` is set to the public
bundle for each test (as on many machines, this one included): requests lets
that variable win over a session's ``verify``, and the setting must not.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.core.provider import ProviderClient
from flask_google_flow.exceptions import ProviderUnavailableError
from flask_google_flow.testing import FakeGoogle
from flask_google_flow.testing._tls import default_ca_bundle


@pytest.fixture
def https_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", default_ca_bundle())
    fake = FakeGoogle()
    with fake.serve():
        yield fake


def test_without_the_bundle_the_provider_is_unreachable(https_fake):
    provider = ProviderClient(discovery_url=https_fake.discovery_url)
    with pytest.raises(ProviderUnavailableError, match="could not be reached"):
        provider.metadata  # noqa: B018


def test_with_the_bundle_every_call_through_the_pool_verifies_with_it(https_fake):
    provider = ProviderClient(discovery_url=https_fake.discovery_url, verify=https_fake.ca_bundle)
    assert provider.session.verify == https_fake.ca_bundle
    assert provider.metadata.issuer == https_fake.issuer  # discovery
    assert provider.certs is not None
    document, _ = provider.get_json(provider.metadata.jwks_uri, endpoint="certs")
    assert document["keys"]
    # google-auth's transport on the pool (refreshes) and a mounted per-use session:
    answer = provider.auth_request(url=https_fake.discovery_url, method="GET")
    assert answer.status == 200
    with requests.Session() as mounted:
        provider.mount(mounted)
        assert mounted.get(https_fake.discovery_url, timeout=5).ok
    with requests.Session() as unmounted, pytest.raises(requests.exceptions.SSLError):
        unmounted.get(https_fake.discovery_url, timeout=5)


def test_the_bundle_does_not_lose_the_public_cas(https_fake):
    with open(https_fake.ca_bundle, encoding="ascii", errors="replace") as file:
        bundle = file.read()
    with open(default_ca_bundle(), encoding="ascii", errors="replace") as file:
        assert file.read().strip() in bundle


def _app(tmp_path, **config) -> Flask:
    fake = FakeGoogle()
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config(), **config)
    return app


def test_the_option_reaches_the_provider_session(tmp_path, https_fake):
    app = _app(tmp_path, GOOGLE_FLOW_CA_BUNDLE=https_fake.ca_bundle)
    GoogleFlow(app)
    assert GoogleFlow.state(app).provider.session.verify == https_fake.ca_bundle


def test_by_default_requests_decides(tmp_path, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    app = _app(tmp_path)
    GoogleFlow(app)
    assert GoogleFlow.state(app).provider.session.verify is True


def test_by_default_the_environment_bundle_is_used(tmp_path, monkeypatch, https_fake):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", https_fake.ca_bundle)
    app = _app(tmp_path)
    GoogleFlow(app)
    assert GoogleFlow.state(app).provider.session.verify == https_fake.ca_bundle


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), (b"not a certificate\n", "not a PEM file of CA certificates")],
)
def test_a_wrong_bundle_fails_at_init_app_naming_the_setting(tmp_path, content, message):
    path = tmp_path / "bundle.pem"
    if content is not None:
        path.write_bytes(content)
    app = _app(tmp_path, GOOGLE_FLOW_CA_BUNDLE=str(path))
    with pytest.raises(ValueError, match=f"GOOGLE_FLOW_CA_BUNDLE: {message}"):
        GoogleFlow(app)
