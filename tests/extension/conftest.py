"""Fixtures for the Flask layer: an app wired to an in-process fake Google."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle

CALLBACK = "http://localhost/oauth2callback"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeGoogle]:
    google = FakeGoogle(clock=clock)
    with google.intercept():
        yield google


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


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


def callback_path(url: str) -> str:
    """The path and query of a callback URL, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def start(client, path: str = "/authorize", **query: Any):
    """GET /authorize and return the provider URL it redirects to."""
    response = client.get(path, query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in(
    client,
    fake: FakeGoogle,
    *,
    path: str = "/authorize",
    account: str | None = None,
    granted_scopes: Any = None,
    **query: Any,
):
    """A whole sign-in with the test client; returns the callback's response."""
    location = start(client, path, **query)
    callback = fake.approve(location, account=account, granted_scopes=granted_scopes)
    return client.get(callback_path(callback))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
