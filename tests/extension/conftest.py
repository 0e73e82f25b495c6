"""Fixtures for the Flask layer: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import add_home_page, build_app


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    """What the app's store callback received, in order."""
    return []


@pytest.fixture
def make_app(
    fake: FakeGoogle, clock: FakeClock, tmp_path: Any, stored: list
) -> Callable[..., Flask]:
    def factory(*, extension: GoogleFlow | None = None, config: dict | None = None, **options):
        app, _ = build_app(
            fake,
            clock,
            tmp_path / "instance",
            stored=stored,
            extension=extension,
            config=config,
            **options,
        )

        add_home_page(app)

        return app

    return factory
