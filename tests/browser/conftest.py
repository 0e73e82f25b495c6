"""A real browser, the example app on a real WSGI server, the fake Google on another.

The browser visits the fake's consent page over plain http (loopback); the app
reaches its back channel over https, trusting it through ``GOOGLE_FLOW_CA_BUNDLE``
in the app's config (nothing is set in this process's environment).

Chromium is Debian's (``apt-get install chromium``), driven by the Playwright
Python package; no browser is ever downloaded. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flask_google_flow.testing._server import BackgroundServer
from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
HOW = (
    "install them with `apt-get install -y chromium` and "
    "`python -m pip install -e '.[test]'` (the playwright package; no `playwright install`)"
)


class LiveServer(BackgroundServer):
    """The app under test on a threaded server on 127.0.0.1 (free port), in a thread.

    The port is chosen first, because the app needs its own URL (the redirect
    URI registered with the fake Google) before it is created; :attr:`app` is
    set afterwards.
    """

    def __init__(self) -> None:
        self.app: Any = None
        super().__init__(self._dispatch)
        self.url = self.base_url

    def _dispatch(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, one per test session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "the playwright Python package is not installed", HOW)
    require(
        os.path.exists(CHROMIUM) or shutil.which("chromium") is not None,
        f"Chromium is not installed at {CHROMIUM}",
        HOW,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Site:
    """The example app and the fake Google, both served over real HTTP."""

    url: str
    app: Any
    fake: Any


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser: Any) -> Iterator[Site]:
    """A fresh fake Google and example app for one test (real HTTP between them)."""
    for name in list(os.environ):
        if name.startswith("GOOGLE_") or name in ("SECRET_KEY", "REDIS_URL", "EXAMPLE_DATABASE"):
            monkeypatch.delenv(name)
    from example_app import create_app
    from flask_google_flow.testing import FakeGoogle

    fake = FakeGoogle()
    fake.add_account("alice@example.com", name="Alice Example")
    fake.add_account("bob@example.com", name="Bob Example")
    fake.start()
    server = LiveServer()
    try:
        server.app = create_app(
            {
                "SECRET_KEY": "browser-test-secret",
                "GOOGLE_FLOW_DISCOVERY_URL": fake.discovery_url,
                "GOOGLE_FLOW_CA_BUNDLE": fake.ca_bundle,  # its https back channel
                "GOOGLE_CLIENT_CONFIG": fake.client_config(
                    redirect_uris=[f"{server.url}/oauth2callback"]
                ),
                "EXAMPLE_DATABASE": str(tmp_path / "example.sqlite3"),
                "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
            },
            instance_path=str(tmp_path / "instance"),
        )
        server.start()
        yield Site(server.url, server.app, fake)
    finally:
        server.stop()
        fake.stop()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies) for one test."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: Any) -> Any:
    """A tab of :func:`context`."""
    return context.new_page()


@pytest.fixture
def shoot(request: pytest.FixtureRequest):
    """``shoot(page, "step")`` saves a screenshot under ``test-artifacts/screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name.removeprefix("test_"))
    counter = iter(range(1, 100))

    def save(page: Any, step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
