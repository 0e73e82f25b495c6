"""Fixtures of the audit tests: an app on an in-process fake Google, like tests/extension."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import build_app

ORIGIN = "http://localhost"


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    return []


@pytest.fixture
def make_app(
    fake: FakeGoogle, clock: FakeClock, tmp_path: Any, stored: list
) -> Callable[..., Flask]:
    def factory(
        *,
        extension: GoogleFlow | None = None,
        config: dict | None = None,
        client_config: Any = None,
        **options: Any,
    ) -> Flask:
        app, extension = build_app(
            fake,
            clock,
            tmp_path / "instance",
            stored=stored,
            extension=extension,
            config=config,
            client_config=client_config,
            **options,
        )
        app.extensions["audit_google_flow"] = extension

        @app.route("/")
        def home():
            return "home"

        @app.route("/me")
        def me():
            credentials = extension.credentials
            return jsonify(
                user=extension.user,
                token=credentials.token if credentials else None,
            )

        @app.route("/api")
        def api():
            response = extension.authorized_session().get(fake.endpoints.userinfo)
            return jsonify(status=response.status_code, body=response.json())

        return app

    return factory


def post(client, path: str, **kw):
    """A same-origin POST (revoke/logout)."""
    return client.post(path, headers={"Origin": ORIGIN}, **kw)
