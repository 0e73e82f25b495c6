"""Development mode in a real browser: the GIS button and One Tap on the fake Google's stand-in."""

from __future__ import annotations

import pytest

from .test_dev_mode import dev_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def test_sign_in_through_the_gsi_button(page, dev_server, shoot):  # noqa: F811
    from example_app import db

    page.goto(dev_server.url + "/")
    button = page.locator('#gsi-button [data-fake-gsi="button"]')
    button.wait_for()
    assert button.inner_text() == "Sign in with Google"
    shoot(page, "home-with-button")
    button.click()
    chooser = page.locator('[data-fake-gsi="chooser"]')
    chooser.wait_for()
    shoot(page, "account-chooser")
    chooser.locator('[data-fake-gsi-account="bob@example.com"]').click()
    page.wait_for_url(dev_server.url + "/")
    page.locator("#welcome").wait_for()
    shoot(page, "signed-in")
    assert page.inner_text("#signed-in-as") == "bob@example.com"
    with dev_server.app.app_context():
        assert db.store_count() == 1
    # The profile needs credentials: the redirect flow, with Bob already chosen.
    from example_app import devmode

    page.click("#nav-profile")
    page.wait_for_url(f"{devmode.fake_google().front_channel_url}/**")
    assert page.is_checked('input[name=account][value="bob@example.com"]')
    shoot(page, "consent-with-login-hint")
    page.click("#allow")
    page.wait_for_url(dev_server.url + "/profile")
    shoot(page, "profile")
    assert page.inner_text("#claim-email") == "bob@example.com"


def test_sign_in_through_one_tap(page, dev_server, shoot):  # noqa: F811
    page.goto(dev_server.url + "/")
    prompt = page.locator('[data-fake-gsi="one-tap"]')
    prompt.wait_for()
    assert "with Google" in prompt.inner_text()
    shoot(page, "one-tap-prompt")
    prompt.locator('[data-fake-gsi-account="alice@example.com"]').click()
    page.wait_for_url(dev_server.url + "/")
    page.locator("#welcome").wait_for()
    shoot(page, "signed-in")
    assert page.inner_text("#signed-in-as") == "alice@example.com"
    # Signed in: the home page shows neither the button nor One Tap.
    assert page.locator('[data-fake-gsi="one-tap"]').count() == 0
    assert page.locator('[data-fake-gsi="button"]').count() == 0


def test_replayed_gsi_post_is_refused_in_the_browser(page, dev_server):  # noqa: F811
    """The credential posted by the stand-in cannot be posted a second time."""
    seen: list = []
    page.on("request", lambda r: seen.append(r.post_data) if r.url.endswith("/gsi") else None)
    page.goto(dev_server.url + "/")
    page.locator('[data-fake-gsi="one-tap"] [data-fake-gsi-account]').first.click()
    page.wait_for_url(dev_server.url + "/")
    page.locator("#welcome").wait_for()
    assert len(seen) == 1 and "credential=" in seen[0]
    status = page.evaluate(
        """async (body) => (await fetch('/gsi', {method: 'POST', body: body,
            headers: {'Content-Type': 'application/x-www-form-urlencoded'}})).status""",
        seen[0],
    )
    assert status == 400
