"""Development mode in a real browser: no client secrets, a full sign-in on the fake Google."""

from __future__ import annotations

import os

import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def dev_server(tmp_path, monkeypatch, browser):
    for name in list(os.environ):
        if name.startswith("GOOGLE_") or name in ("SECRET_KEY", "REDIS_URL", "EXAMPLE_DATABASE"):
            monkeypatch.delenv(name)
    from example_app import create_app

    server = LiveServer()
    server.app = create_app(
        {"GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions")},
        instance_path=str(tmp_path / "instance"),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_newcomer_signs_in_without_a_google_account(page, dev_server, shoot, host):
    from example_app import devmode

    url = dev_server.url.replace("127.0.0.1", host)
    page.goto(url + "/")
    assert "Development mode" in page.inner_text("#dev-banner")
    shoot(page, "home")
    page.click("#sign-in-main")
    page.wait_for_url(f"{devmode.fake_google().front_channel_url}/**")
    assert page.url.startswith("http://127.0.0.1:")  # plain http: no certificate warning
    page.check('input[name=account][value="bob@example.com"]')
    shoot(page, "consent")
    page.click("#allow")
    page.wait_for_url(url + "/profile")
    shoot(page, "profile")
    assert page.inner_text("#claim-email") == "bob@example.com"
    assert page.locator("#dev-banner").is_visible()
