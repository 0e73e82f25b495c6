"""Fixtures for the outage, session-setup and rotation tests: an app on an in-process fake Google.

``make_app(config=..., **options)`` builds the app with ``build_app`` and adds
``/`` (who is signed in, from the session), ``/plain`` (never touches the
session) and ``/credentials`` (whether credentials are available).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import build_app


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    """What the app's store callback received, in order."""
    return []


@pytest.fixture
def make_app(fake: FakeGoogle, clock: FakeClock, tmp_path: Any) -> Callable[..., Flask]:
    def factory(
        *,
        extension: GoogleFlow | None = None,
        config: dict | None = None,
        stored: list | None = None,
        **options: Any,
    ) -> Flask:
        app, google_flow = build_app(
            fake,
            clock,
            tmp_path / "instance",
            stored=stored,
            extension=extension,
            config=config,
            **options,
        )

        @app.route("/")
        def home():
            user = session.get("_google_flow_user")
            return f"home {user['claims'].get('email') if user else 'anonymous'}"

        @app.route("/plain")
        def plain():
            return "no session here"

        @app.route("/credentials")
        def credentials():
            return "yes" if google_flow.credentials is not None else "no"

        app.extensions["test_google_flow"] = google_flow
        return app

    return factory
