"""Shared test helpers for the whole suite."""

from __future__ import annotations

import os

import pytest

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
    pytest.skip(message)
