"""Development mode: no client secrets → the fake Google as a real server on loopback."""

from __future__ import annotations

import os
import stat

import pytest
import requests

from example_app import create_app, devmode
from flask_google_flow import GoogleFlow

from .conftest import path_of, query_of


@pytest.fixture
def dev_app(tmp_path):
    return create_app(
        {"GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions")},
        instance_path=str(tmp_path / "instance"),
    )


def test_without_client_secrets_the_fake_google_serves_on_loopback(dev_app):
    assert dev_app.config["EXAMPLE_DEV_MODE"] is True
    fake = devmode.fake_google()
    assert fake.is_running
    assert fake.front_channel_url.startswith("http://127.0.0.1:")  # the browser: no TLS warning
    assert fake.base_url.startswith("https://127.0.0.1:")  # the back channel
    assert dev_app.config["GOOGLE_FLOW_DISCOVERY_URL"] == fake.discovery_url
    assert dev_app.config["GOOGLE_FLOW_CA_BUNDLE"] == fake.ca_bundle
    assert GoogleFlow.state(dev_app).provider.session.verify == fake.ca_bundle
    client_config = dev_app.config["GOOGLE_CLIENT_CONFIG"]["web"]
    assert client_config["auth_uri"].startswith(fake.front_channel_url + "/")
    assert client_config["token_uri"].startswith(fake.base_url + "/")
    document = requests.get(fake.discovery_url, timeout=5, verify=fake.ca_bundle).json()
    assert document["issuer"] == fake.base_url


def test_the_fake_is_started_once_per_process(dev_app, tmp_path):
    other = create_app(instance_path=str(tmp_path / "other"))
    assert other.config["GOOGLE_FLOW_DISCOVERY_URL"] == dev_app.config["GOOGLE_FLOW_DISCOVERY_URL"]


def test_every_page_shows_the_banner(dev_app):
    client = dev_app.test_client()
    for path in ("/", "/nope"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="dev-banner"' in page
        assert "Development mode: signing in with a fake Google" in page


def test_secret_key_is_generated_once_and_kept_private(dev_app, tmp_path):
    path = tmp_path / "instance" / "dev_secret_key"
    key = path.read_text().strip()
    assert dev_app.secret_key == key and len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = create_app(instance_path=str(tmp_path / "instance"))
    assert again.secret_key == key


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000", "localhost:8123"])
def test_full_sign_in_over_real_http_from_either_loopback_name(dev_app, host):
    client = dev_app.test_client()
    base = f"http://{host}"
    response = client.get("/authorize?next=/profile", base_url=base)
    location = response.headers["Location"]
    fake = devmode.fake_google()
    assert location.startswith(fake.endpoints.authorization)
    assert query_of(location)["redirect_uri"] == f"{base}/oauth2callback"
    consent = requests.get(location, timeout=5)
    assert consent.status_code == 200 and 'id="fake-google-banner"' in consent.text
    assert "alice@example.com" in consent.text
    callback = fake.approve(location, account="alice@example.com")
    assert callback.startswith(f"{base}/oauth2callback?")
    response = client.get(path_of(callback), base_url=base)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/profile", base_url=base).get_data(as_text=True)
    assert '<td id="claim-email">alice@example.com</td>' in page
    assert f'<td id="claim-iss">{fake.issuer}</td>' in page
    userinfo = client.get("/userinfo", base_url=base)  # an API call over the https back channel
    assert userinfo.status_code == 200, userinfo.get_data(as_text=True)
    assert '<td id="info-email">alice@example.com</td>' in userinfo.get_data(as_text=True)


def test_a_non_loopback_host_is_not_registered_with_the_fake(dev_app):
    client = dev_app.test_client()
    client.get("/", base_url="http://evil.example")
    registered = devmode.fake_google().default_client.redirect_uris
    assert not any("evil.example" in uri for uri in registered)


def test_with_client_secrets_there_is_no_dev_mode(tmp_path, fake_google):
    app = create_app(
        {"SECRET_KEY": "k", "GOOGLE_CLIENT_CONFIG": fake_google.client_config()},
        instance_path=str(tmp_path / "instance"),
    )
    assert app.config["EXAMPLE_DEV_MODE"] is False
    assert "GOOGLE_FLOW_DISCOVERY_URL" not in app.config
    assert "Development mode" not in app.test_client().get("/").get_data(as_text=True)
