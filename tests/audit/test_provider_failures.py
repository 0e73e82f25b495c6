"""Google down, slow or malformed at each endpoint the Flask layer calls."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeGoogle
from tests.sign_in_helpers import CALLBACK, callback_path, sign_in, start

from .conftest import post


def _clean_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "GOCSPX" not in body and "ya29." not in body
    return body


@pytest.mark.parametrize(
    ("kind", "status"),
    [("timeout", 504), ("connect_timeout", 504), ("not_json", 502), ("server_error", 502)],
)
def test_certs_endpoint_failures_at_sign_in(client, fake, stored, kind, status):
    fake.fail("certs", kind)
    _clean_error(sign_in(client, fake), status)
    assert stored == []
    with client.session_transaction() as sess:
        assert "_google_flow_user" not in sess
    assert sign_in(client, fake).status_code == 302  # Google recovered


@pytest.fixture
def discovery_app(fake: FakeGoogle, clock, tmp_path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        GOOGLE_FLOW_DISCOVERY_URL=fake.discovery_url,
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an unhandled error is a 500 page, not a raise
    GoogleFlow(app, clock=clock, store=lambda credentials, id_info: None)
    return app


@pytest.mark.parametrize(("kind", "status"), [("server_error", 502), ("timeout", 504)])
def test_discovery_down_at_authorize_is_a_clean_provider_error(discovery_app, fake, kind, status):
    fake.fail("discovery", kind)
    client = discovery_app.test_client()
    _clean_error(client.get("/authorize"), status)
    # the next request fetches discovery again and works
    assert sign_in(client, fake).status_code == 302
    assert fake.request_counts["discovery"] == 2


def test_discovery_malformed_at_authorize_is_a_clean_provider_error(discovery_app, fake):
    fake.fail("discovery", "not_json")
    _clean_error(discovery_app.test_client().get("/authorize"), 502)


@pytest.mark.parametrize("kind", ["timeout", "server_error", "not_json"])
def test_revoke_endpoint_failure_still_clears_local_state(client, fake, kind):
    assert sign_in(client, fake).status_code == 302
    token = client.get("/me").get_json()["token"]
    fake.fail("revoke", kind)
    response = post(client, "/revoke")
    assert response.status_code == 302
    assert client.get("/me").get_json() == {"user": None, "token": None}
    if kind != "not_json":
        assert response.headers["Location"] == "/?google_flow_revoke=failed"
        assert fake.access_token_is_valid(token)  # Google never saw the revoke


def test_userinfo_down_through_authorized_session_keeps_the_user_signed_in(client, fake):
    assert sign_in(client, fake).status_code == 302
    fake.fail("userinfo", "server_error", status=503)
    data = client.get("/api").get_json()
    assert data["status"] == 503
    assert client.get("/me").get_json()["user"] is not None
    assert client.get("/api").get_json()["status"] == 200


def test_userinfo_timeout_uses_the_configured_api_timeout(make_app, fake, monkeypatch):
    import requests

    app = make_app(config={"GOOGLE_FLOW_API_TIMEOUT": "3.5"})
    client = app.test_client()
    assert sign_in(client, fake).status_code == 302
    seen = []
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen.append((request.url, kwargs.get("timeout")))
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    assert client.get("/api").get_json()["status"] == 200
    assert (fake.endpoints.userinfo, 3.5) in seen


def test_token_request_uses_the_configured_http_timeout(make_app, fake, monkeypatch):
    import requests

    app = make_app(config={"GOOGLE_FLOW_HTTP_TIMEOUT": "4.25"})
    client = app.test_client()
    seen = []
    original = requests.Session.send

    def spy(self, request, **kwargs):
        seen.append((request.url, kwargs.get("timeout")))
        return original(self, request, **kwargs)

    location = start(client)
    monkeypatch.setattr(requests.Session, "send", spy)
    assert client.get(callback_path(fake.approve(location))).status_code == 302
    timeouts = {url: t for url, t in seen}
    assert timeouts[fake.endpoints.token] == 4.25
    assert timeouts[fake.endpoints.jwks] == 4.25


def test_discovery_naming_a_plain_http_endpoint_is_a_clean_502(discovery_app, fake, monkeypatch):
    """The provider's document is at fault (502), never a 500 with a traceback."""
    original = fake.discovery_document

    def insecure_document():
        document = dict(original())
        document["authorization_endpoint"] = "http://idp.example/auth"
        return document

    monkeypatch.setattr(fake, "discovery_document", insecure_document)
    _clean_error(discovery_app.test_client().get("/authorize"), 502)
    monkeypatch.setattr(fake, "discovery_document", original)
    assert discovery_app.test_client().get("/authorize").status_code == 302  # recovers
