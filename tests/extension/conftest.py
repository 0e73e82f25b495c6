"""Fixtures for the Flask layer: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle

CALLBACK = "http://localhost/oauth2callback"


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    """What the app's store callback received, in order."""
    return []


@pytest.fixture
def make_app(
    fake: FakeGoogle, clock: FakeClock, tmp_path: Any, stored: list
) -> Callable[..., Flask]:
    def factory(*, extension: GoogleFlow | None = None, config: dict | None = None, **options):
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        app.config.update(
            SECRET_KEY="test-secret-key",
            GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        )
        app.config.update(config or {})

        if extension is None:
            extension = GoogleFlow(clock=clock, **options)

            @extension.store
            def save(credentials, id_info):
                stored.append((credentials, dict(id_info)))

        extension.init_app(app)

        @app.route("/")
        def home():
            user = session.get("_google_flow_user")
            return f"home {user['claims'].get('email') if user else 'anonymous'}"

        return app

    return factory
