"""Shared test helpers for the whole suite."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flask_google_flow.testing import FakeClock, FakeGoogle

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, why: str, how: str) -> None:
    """Skip a test whose prerequisite is missing — or fail it in CI.

    Outside CI a missing prerequisite (Chromium, redis-server, gunicorn) skips
    with a message that says how to enable the test; in CI (``CI=true``) the
    prerequisite must be there, so the test fails instead of silently passing.
    """
    if condition:
        return
    message = f"{why}; {how}"
    if IN_CI:
        pytest.fail(f"CI=true but {message}", pytrace=False)
    pytest.skip(reason=message)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Any]:
    """A private ``redis-server`` on a free loopback port, stopped by PID afterwards.

    Tests that stop and restart Redis use this one, never the shared server.
    """
    from tests.integration.harness import RedisServer

    require(
        shutil.which("redis-server") is not None,
        "redis-server is not installed",
        "apt-get install redis-server",
    )
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    try:
        yield server.start()
    finally:
        server.stop()


# -- an app wired to an in-process fake Google ------------------------------------
# Each test folder defines its own ``make_app``; ``app`` and ``client`` use the
# one next to the test that asks.


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the fake Google and of the app under test; tests move it."""
    return FakeClock()


@pytest.fixture
def fake_options() -> dict[str, Any]:
    """Extra ``FakeGoogle`` options; a test folder or test may override it."""
    return {}


@pytest.fixture
def fake(clock: FakeClock, fake_options: dict[str, Any]) -> Iterator[FakeGoogle]:
    """A fake Google answering Google's URLs in-process for the test's duration."""
    google = FakeGoogle(clock=clock, **fake_options)
    with google.intercept():
        yield google


@pytest.fixture
def app(make_app: Any) -> Any:
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()
