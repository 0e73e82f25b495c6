"""Helpers of the flow-layer tests: client configs, token responses, a fake browser."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

CLIENT_SECRET = "s3cr3t-CLIENT-value"
TOKEN_URI = "https://oauth2.googleapis.com/token"
AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email"]


def make_config(client_type: str = "web", **overrides: Any) -> dict[str, Any]:
    """A Google-format client configuration."""
    inner = {
        "client_id": "cid.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "auth_uri": AUTH_URI,
        "token_uri": TOKEN_URI,
        "redirect_uris": ["http://localhost"],
    }
    inner.update(overrides)
    return {client_type: inner}


def token_body(**overrides: Any) -> dict[str, Any]:
    """A successful token response."""
    body = {
        "access_token": "ACCESS-tok-123",
        "token_type": "Bearer",
        "expires_in": 3599,
        "refresh_token": "REFRESH-tok-456",
        "id_token": "ID.tok.789",
        "scope": " ".join(SCOPES),
    }
    body.update(overrides)
    return body


def http_get(url: str, timeout: float = 5.0, host: str | None = None) -> tuple[int, str]:
    """GET a URL like a browser would; return (status, body). Never follows redirects.

    ``host`` sends that ``Host`` header instead of the URL's (as a browser does
    when a name it resolved points at another address).
    """
    request = urllib.request.Request(url)
    if host is not None:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


class FakeBrowser:
    """Stands in for ``webbrowser``: ``get(name).open(url)`` runs a script in a thread.

    The script receives the authorization URL and returns nothing; what it
    fetched is recorded in ``results`` as (url, status, body).
    """

    def __init__(self) -> None:
        self.script: Callable[[FakeBrowser, str], None] | None = None
        self.requested_name: object = "unset"
        self.opened: list[tuple[str, int, bool]] = []
        self.results: list[tuple[str, int, str]] = []
        self.thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    # webbrowser module API -------------------------------------------------
    def get(self, using: str | None = None) -> FakeBrowser:
        self.requested_name = using
        return self

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.opened.append((url, new, autoraise))
        if self.script is not None:
            self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
            self.thread.start()
        return True

    # helpers ---------------------------------------------------------------
    def _run(self, url: str) -> None:
        try:
            assert self.script is not None
            self.script(self, url)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)

    def fetch(self, url: str, host: str | None = None) -> tuple[int, str]:
        status, body = http_get(url, host=host)
        self.results.append((url, status, body))
        return status, body

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join(10)
        if self.errors:
            raise self.errors[0]


def dump(path: Any, data: Any) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")
