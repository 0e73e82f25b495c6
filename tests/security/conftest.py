"""Fixtures for the adversarial tests: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle

CALLBACK = "http://localhost/oauth2callback"
ORIGIN = "http://localhost"


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *, extension: GoogleFlow | None = None, config: dict | None = None, **options: Any
    ) -> Flask:
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config.update(
            SECRET_KEY="test-secret-key",
            GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        )
        app.config.update(config or {})
        google_flow = extension or GoogleFlow(clock=clock, **options)
        google_flow.init_app(app)

        @app.route("/")
        def home():
            user = session.get("_google_flow_user")
            return f"home {user['claims'].get('email') if user else 'anonymous'}"

        @app.route("/api")
        def api():
            response = google_flow.authorized_session().get(fake.endpoints.userinfo)
            return jsonify(status=response.status_code, body=response.json())

        return app

    return factory
