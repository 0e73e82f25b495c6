"""Driving a sign-in with the Flask test client and an in-process fake Google."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask_google_flow.testing import FakeGoogle


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
