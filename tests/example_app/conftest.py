"""The example app against the in-process fake Google (the plugin's ``fake_google``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from example_app import create_app

APP_ENV_VARS = ("SECRET_KEY", "REDIS_URL", "EXAMPLE_DATABASE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration leaks in from the environment of whoever runs the tests."""
    for name in list(os.environ):
        if name in APP_ENV_VARS or name.startswith("GOOGLE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_app(fake_google: Any, tmp_path: Any) -> Callable[..., Flask]:
    def factory(**config: Any) -> Flask:
        base = {
            "SECRET_KEY": "test-secret-key",
            "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
            "EXAMPLE_DATABASE": str(tmp_path / "example.sqlite3"),
            "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        }
        base.update(config)
        return create_app(base, instance_path=str(tmp_path / "instance"))

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


def query_of(url: str) -> dict[str, str]:
    """The query parameters of *url* (first values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def path_of(url: str) -> str:
    """Path and query of *url*, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def follow(client: Any, fake: Any, response: Any, *, granted_scopes: Any = None, limit: int = 10):
    """Follow redirects like a browser; the fake Google approves when it is reached."""
    for _ in range(limit):
        if response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = response.headers["Location"]
        if location.startswith(fake.endpoints.authorization):
            location = fake.approve(location, granted_scopes=granted_scopes)
        response = client.get(path_of(location))
    raise AssertionError("too many redirects")
