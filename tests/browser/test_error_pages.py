"""The extension's own error pages in Chromium: a way back home, "Sign in again", host mismatch.

The app here has no error handlers of its own (unlike the example app), so
the pages are the ones :mod:`flask_google_flow.ext.errors` renders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeGoogle

from .conftest import LiveServer

pytestmark = pytest.mark.browser


@dataclass
class Plain:
    url: str
    fake: FakeGoogle
    port: int


def _plain_app(server: LiveServer, fake: FakeGoogle, tmp_path: Path, **config: Any) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        SECRET_KEY="browser-errors",
        GOOGLE_FLOW_DISCOVERY_URL=fake.discovery_url,
        GOOGLE_FLOW_CA_BUNDLE=fake.ca_cert,  # the fake's https back channel
        GOOGLE_FLOW_SESSION_DIR=str(tmp_path / "sessions"),
        **config,
    )
    GoogleFlow(app)

    @app.route("/")
    def home():
        return "<h1 id=home-page>Home</h1>"

    @app.route("/reports")
    def reports():
        return "<h1 id=reports>Reports</h1>"

    return app


@pytest.fixture
def redirect_host() -> str:
    """The host of the app's redirect URI; a test may parametrize it."""
    return "127.0.0.1"


@pytest.fixture
def plain(tmp_path: Path, browser: Any, redirect_host: str) -> Iterator[Plain]:
    """A bare app (no error handlers) on 127.0.0.1 and a fake Google server."""
    fake = FakeGoogle()
    fake.start()
    server = LiveServer()
    port = int(server.url.rsplit(":", 1)[1])
    callback = f"http://{redirect_host}:{port}/oauth2callback"
    try:
        server.app = _plain_app(
            server,
            fake,
            tmp_path,
            GOOGLE_CLIENT_CONFIG=fake.client_config(redirect_uris=[callback]),
            GOOGLE_FLOW_REDIRECT_URI=callback,
        )
        server.start()
        yield Plain(server.url, fake, port)
    finally:
        server.stop()
        fake.stop()


def _no_overflow(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_cancelled_sign_in_has_sign_in_again_and_home(page, plain, shoot):
    page.goto(f"{plain.url}/authorize?next=/reports")
    page.wait_for_url(f"{plain.fake.front_channel_url}/**")
    page.click("#cancel")
    page.wait_for_url(f"{plain.url}/oauth2callback**")
    shoot(page, "cancelled")
    assert page.inner_text("#error-title") == "Sign-in cancelled"
    assert page.locator("#home").is_visible()
    assert _no_overflow(page)
    page.click("#sign-in-again")  # back to Google, then to /reports
    page.wait_for_url(f"{plain.fake.front_channel_url}/**")
    page.click("#allow")
    page.wait_for_url(f"{plain.url}/reports")
    assert page.inner_text("#reports") == "Reports"


def test_expired_page_links_home(page, plain, shoot):
    page.goto(f"{plain.url}/oauth2callback?state=stale&code=x")
    shoot(page, "expired")
    assert page.inner_text("#error-title") == "Sign-in expired"
    page.click("#home")
    page.wait_for_url(f"{plain.url}/")
    assert page.inner_text("#home-page") == "Home"


def test_error_page_fits_a_phone(browser, plain, shoot):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{plain.url}/oauth2callback?state=stale&code=x")
        shoot(page, "phone")
        assert _no_overflow(page)
    finally:
        context.close()


@pytest.mark.parametrize("redirect_host", ["localhost"])
def test_signing_in_from_127_with_a_localhost_redirect_uri(page, plain, shoot):
    page.goto(f"{plain.url}/authorize")  # the site opened at 127.0.0.1
    page.wait_for_url(f"{plain.fake.front_channel_url}/**")
    page.click("#allow")
    page.wait_for_url(f"http://localhost:{plain.port}/oauth2callback**")
    shoot(page, "host-mismatch")
    assert page.inner_text("#error-title") == "Sign-in started on another address"
    message = page.inner_text("#error-message")
    assert f"127.0.0.1:{plain.port}" in message and f"localhost:{plain.port}" in message
