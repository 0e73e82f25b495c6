"""Fixtures for life after sign-in: an app with views that use the accessors,
``authorized_session()`` and ``required``, wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_google_flow import GoogleFlow, current_google_user
from flask_google_flow.testing import FakeClock, FakeGoogle

CALLBACK = "http://localhost/oauth2callback"
DRIVE = "https://www.googleapis.com/auth/drive.readonly"
CALENDAR = "https://www.googleapis.com/auth/calendar.readonly"
ORIGIN = "http://localhost"


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *,
        extension: GoogleFlow | None = None,
        config: dict | None = None,
        **options: Any,
    ) -> Flask:
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config.update(
            SECRET_KEY="test-secret-key",
            GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
            GOOGLE_FLOW_EXTRA_SCOPES=[CALENDAR],
        )
        app.config.update(config or {})
        google_flow = extension or GoogleFlow(clock=clock, **options)
        google_flow.init_app(app)
        app.extensions["test_google_flow"] = google_flow

        @app.route("/")
        def home():
            return "home"

        @app.route("/me")
        def me():
            credentials = google_flow.credentials
            return jsonify(
                user=google_flow.user,
                proxy_email=current_google_user.get("email") if current_google_user else None,
                authorized=google_flow.is_authorized,
                token=credentials.token if credentials else None,
                refresh_token=credentials.refresh_token if credentials else None,
                granted=list(google_flow.granted_scopes),
                requested=list(google_flow.requested_scopes),
            )

        @app.route("/api")
        def api():
            barrier = app.config.get("TEST_API_BARRIER")
            if barrier is not None:  # concurrency tests: start every call together
                barrier.wait(timeout=10)
            response = google_flow.authorized_session().get(fake.endpoints.userinfo)
            return jsonify(status=response.status_code, body=response.json())

        @app.route("/api-timeout")
        def api_timeout():
            return jsonify(timeout=google_flow.authorized_session().default_timeout)

        @app.route("/drive")
        @google_flow.required(scopes=[DRIVE])
        def drive():
            return "drive files"

        @app.route("/email-only")
        @google_flow.required(scopes=["email"])
        def email_only():
            return "email ok"

        @app.route("/signed-in")
        @google_flow.required
        def signed_in():
            return "signed in"

        return app

    return factory


def follow_to_google(client, path: str) -> str:
    """GET an app URL that redirects (maybe via /authorize) to the provider."""
    response = client.get(path)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    if location.startswith("/"):
        response = client.get(location)
        assert response.status_code == 302, response.get_data(as_text=True)
        location = response.headers["Location"]
    return location


def me(client) -> dict[str, Any]:
    response = client.get("/me")
    assert response.status_code == 200
    return response.get_json()


def session_id(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def post(client, path: str, *, origin: str | None = ORIGIN, referer: str | None = None, **kw):
    headers = {}
    if origin is not None:
        headers["Origin"] = origin
    if referer is not None:
        headers["Referer"] = referer
    return client.post(path, headers=headers, **kw)
