"""Fixtures for the adversarial tests: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import build_app

ORIGIN = "http://localhost"


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *, extension: GoogleFlow | None = None, config: dict | None = None, **options: Any
    ) -> Flask:
        app, google_flow = build_app(
            fake, clock, tmp_path / "instance", extension=extension, config=config, **options
        )

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
