"""Fixtures for Cross-Account Protection: an app with ``POST /risc`` on, wired to the fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, jsonify

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import build_app


class Recorder:
    """The app's ``store``/``delete`` callbacks, and the credentials they keep by ``sub``."""

    def __init__(self) -> None:
        self.stored: dict[str, Any] = {}
        self.deleted: list[str | None] = []

    def register(self, extension: GoogleFlow) -> None:
        @extension.store
        def store(credentials, id_info):
            self.stored[id_info["sub"]] = credentials

        @extension.load
        def load(sub):
            return self.stored.get(sub)

        @extension.delete
        def delete(sub):
            self.deleted.append(sub)
            self.stored.pop(sub, None)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_app(
    fake: FakeGoogle, clock: FakeClock, tmp_path: Any, recorder: Recorder
) -> Callable[..., Flask]:
    def factory(*, config: dict | None = None, callbacks: bool = True, **options: Any) -> Flask:
        extension = GoogleFlow(clock=clock, **options)
        if callbacks:
            recorder.register(extension)
        settings = {"GOOGLE_FLOW_RISC_ENABLED": True, **(config or {})}
        app, _ = build_app(fake, clock, tmp_path / "instance", extension=extension, config=settings)

        @app.route("/me")
        def me():
            return jsonify(user=extension.user, authorized=extension.is_authorized)

        return app

    return factory
