"""Fixtures for the fake Google's own tests: one fake, run in-process or as a server."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from flask_google_flow.testing import FakeClock, FakeGoogle

REDIRECT_URI = "http://localhost/oauth2callback"


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url`` as a flat dict."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Google:
    """A fake Google under test, with a requests session that reaches it."""

    fake: FakeGoogle
    clock: FakeClock
    session: requests.Session
    mode: str

    def authorization_url(self, **overrides: str | None) -> tuple[str, str]:
        """An authorization URL for the default client, and its code verifier."""
        verifier, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "client_id": self.fake.default_client.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "state-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "nonce": "nonce-456",
        }
        params.update(overrides)
        clean = {key: value for key, value in params.items() if value is not None}
        return f"{self.fake.endpoints.authorization}?{urlencode(clean)}", verifier

    def token(
        self, data: dict[str, str], *, basic: bool = False, timeout: float = 5, **kwargs
    ) -> requests.Response:
        """POST to the token endpoint, authenticating the default client."""
        client = self.fake.default_client
        if basic:
            kwargs["auth"] = (client.client_id, client.client_secret)
        else:
            data = {"client_id": client.client_id, "client_secret": client.client_secret, **data}
        return self.session.post(self.fake.endpoints.token, data=data, timeout=timeout, **kwargs)

    def refresh(self, refresh_token: str, **extra: str) -> requests.Response:
        """Use the ``refresh_token`` grant."""
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})

    def redeem(
        self, callback_url: str, verifier: str, *, timeout: float = 5, **extra: str
    ) -> requests.Response:
        """Exchange the code of ``callback_url``."""
        data = {
            "grant_type": "authorization_code",
            "code": query(callback_url)["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            **extra,
        }
        return self.token(data, timeout=timeout)

    def login(self, **overrides: str | None) -> dict:
        """A complete approve + code exchange; the token response JSON."""
        url, verifier = self.authorization_url(**overrides)
        response = self.redeem(self.fake.approve(url), verifier)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeGoogle:
    return FakeGoogle(clock=clock)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # never send loopback requests through a proxy
        yield session


@pytest.fixture(params=["in_process", "server"])
def google(
    request: pytest.FixtureRequest, fake: FakeGoogle, clock: FakeClock, session: requests.Session
) -> Iterator[Google]:
    """The fake in both modes: intercepted in-process, and as a real server."""
    if request.param == "in_process":
        with fake.intercept():
            yield Google(fake, clock, session, request.param)
    else:
        with fake.serve():
            yield Google(fake, clock, fake.trust(session), request.param)


@pytest.fixture
def in_process(fake: FakeGoogle, clock: FakeClock, session: requests.Session) -> Iterator[Google]:
    """The fake intercepted in-process only (for tests of rules, not transport)."""
    with fake.intercept():
        yield Google(fake, clock, session, "in_process")


@pytest.fixture
def server(fake: FakeGoogle, clock: FakeClock, session: requests.Session) -> Iterator[Google]:
    """The fake as a real HTTP server only (its back channel trusted by ``session``)."""
    with fake.serve():
        yield Google(fake, clock, fake.trust(session), "server")
