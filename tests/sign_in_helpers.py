"""Driving a sign-in with the Flask test client and an in-process fake Google."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, session

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeGoogle

CALLBACK = "http://localhost/oauth2callback"
"""The test client's redirect URI (``url_for(..., _external=True)`` on ``localhost``)."""


def build_app(
    fake: FakeGoogle,
    clock: Any,
    instance_path: Any,
    *,
    stored: list | None = None,
    extension: GoogleFlow | None = None,
    config: dict | None = None,
    client_config: Any = None,
    **options: Any,
) -> tuple[Flask, GoogleFlow]:
    """A Flask app signed in against *fake*; each test folder adds its own routes.

    Without *extension*, a new ``GoogleFlow(clock=clock, **options)`` is used
    and, when *stored* is a list, its ``store`` callback appends
    ``(credentials, id_info)`` to it (else credentials stay in the session).
    """
    app = Flask(__name__, instance_path=str(instance_path))
    app.config.update(
        SECRET_KEY="test-secret-key",
        GOOGLE_CLIENT_CONFIG=client_config or fake.client_config([CALLBACK]),
    )
    app.config.update(config or {})
    if extension is None:
        extension = GoogleFlow(clock=clock, **options)
        if stored is not None:

            @extension.store
            def save(credentials, id_info):
                stored.append((credentials, dict(id_info)))

    extension.init_app(app)
    return app, extension


def add_home_page(app: Flask) -> None:
    """``GET /`` answering ``home <email of the signed-in user>`` or ``home anonymous``."""

    def home() -> str:
        user = session.get("_google_flow_user")
        return f"home {user['claims'].get('email') if user else 'anonymous'}"

    app.add_url_rule("/", "home", home)


def callback_path(url: str) -> str:
    """The path and query of a callback URL, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def query_of(url: str) -> dict[str, str]:
    """The query parameters of *url* (first values)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def start(client: Any, path: str = "/authorize", **query: Any) -> str:
    """GET /authorize and return the provider URL it redirects to."""
    response = client.get(path, query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def sign_in(
    client: Any,
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
