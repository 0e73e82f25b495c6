"""Fixtures for the adversarial tests: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import add_home_page, build_app

ORIGIN = "http://localhost"


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *, extension: GoogleFlow | None = None, config: dict | None = None, **options: Any
    ) -> Flask:
        app, google_flow = build_app(
            fake, clock, tmp_path / "instance", extension=extension, config=config, **options
        )

        add_home_page(app)

        @app.route("/api")
        def api():
            response = google_flow.authorized_session().get(fake.endpoints.userinfo)
            return jsonify(status=response.status_code, body=response.json())

        return app

    return factory
