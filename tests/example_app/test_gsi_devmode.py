"""Development mode: the home page's GIS button and One Tap use the fake's stand-in script."""

from __future__ import annotations

import re

import pytest
import requests

from example_app import create_app, devmode
from flask_google_flow.testing import FakeGoogle


@pytest.fixture
def dev_app(tmp_path):
    return create_app(
        {"GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions")},
        instance_path=str(tmp_path / "instance"),
    )


def test_home_page_loads_the_stand_in_script(dev_app):
    fake = devmode.fake_google()
    html = dev_app.test_client().get("/").get_data(as_text=True)
    assert f'<script src="{fake.gsi_script_url}"' in html
    assert 'data-auto_prompt="true"' in html  # One Tap, in development mode
    assert 'class="g_id_signin"' in html
    script = requests.get(fake.gsi_script_url, timeout=5)
    assert script.status_code == 200
    assert "g_csrf_token" in script.text and "g_id_onload" in script.text


def test_sign_in_with_the_stand_ins_credential(dev_app):
    fake = devmode.fake_google()
    client = dev_app.test_client()
    html = client.get("/").get_data(as_text=True)
    nonce = re.search(r'data-nonce="([^"]+)"', html).group(1)
    client_id = re.search(r'data-client_id="([^"]+)"', html).group(1)
    answer = requests.post(
        f"{fake.front_channel_url}/gsi/credential",
        data={"client_id": client_id, "account": "bob@example.com", "nonce": nonce},
        timeout=5,
    )
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    client.set_cookie("g_csrf_token", "t0k3n")
    response = client.post(
        "/gsi",
        data={"credential": answer.json()["credential"], "g_csrf_token": "t0k3n"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302
    assert 'id="signed-in-as">bob@example.com' in client.get("/").get_data(as_text=True)


def test_stand_in_refuses_unknown_clients_and_accounts():
    fake = FakeGoogle()
    with fake.serve():
        url = f"{fake.front_channel_url}/gsi/credential"
        client_id = fake.default_client.client_id
        bad_client = requests.post(url, data={"client_id": "x", "account": "a"}, timeout=5)
        assert bad_client.status_code == 401
        unknown = {"client_id": client_id, "account": "nobody@example.com"}
        assert requests.post(url, data=unknown, timeout=5).status_code == 400
        accounts = requests.get(f"{fake.front_channel_url}/gsi/accounts", timeout=5).json()
        assert [a["email"] for a in accounts] == [fake.default_account.email]
        assert fake.request_counts["gsi"] == 3
