"""Sign-in journeys in headless Chromium against the example app and the fake Google."""

from __future__ import annotations

import json
import sqlite3

import pytest

from example_app import DRIVE_READONLY

pytestmark = pytest.mark.browser


def consent(page, fake, account=None):
    """Wait for the fake Google's consent page; pick *account* if given."""
    page.wait_for_url(f"{fake.front_channel_url}/**")
    page.locator("#fake-google-banner").wait_for()
    if account:
        page.check(f'input[name=account][value="{account}"]')


def sign_in(page, site, shoot=None, account="alice@example.com"):
    page.goto(site.url + "/")
    if shoot:
        shoot(page, "home")
    page.click("#sign-in-main")
    consent(page, site.fake, account)
    if shoot:
        shoot(page, "consent")
    page.click("#allow")
    page.wait_for_url(site.url + "/profile")


def stored_token(site):
    with sqlite3.connect(site.app.config["EXAMPLE_DATABASE"]) as connection:
        rows = connection.execute("SELECT data FROM credentials").fetchall()
    return [json.loads(data)["token"] for (data,) in rows]


def test_sign_in_consent_profile(page, site, shoot):
    sign_in(page, site, shoot)
    shoot(page, "profile")
    assert page.inner_text("#claim-email") == "alice@example.com"
    assert page.inner_text("#signed-in-as") == "alice@example.com"
    assert page.locator("#dev-banner").count() == 0
    page.click("#nav-userinfo")
    page.wait_for_url(site.url + "/userinfo")
    shoot(page, "userinfo")
    assert page.inner_text("#info-email") == "alice@example.com"


def test_cancel_at_consent_shows_a_friendly_page(page, site, shoot):
    page.goto(site.url + "/")
    page.click("#sign-in-main")
    consent(page, site.fake)
    page.click("#cancel")
    page.wait_for_url(f"{site.url}/oauth2callback**")
    shoot(page, "cancelled")
    assert page.inner_text("#error-title") == "Sign-in cancelled"
    assert page.locator("#sign-in").is_visible()
    assert stored_token(site) == []


def test_incremental_authorization_for_drive(page, site, shoot):
    sign_in(page, site)
    page.click("#nav-drive")
    consent(page, site.fake)
    shoot(page, "drive-consent")
    assert DRIVE_READONLY in page.inner_text("#consent")
    page.click("#allow")
    page.locator("#drive-granted").wait_for()
    assert page.url.startswith(site.url + "/drive")
    shoot(page, "drive")
    scopes = page.inner_text("#scopes")
    assert DRIVE_READONLY in scopes
    assert "https://www.googleapis.com/auth/userinfo.email" in scopes


def test_declining_the_extra_scope_ends_on_a_403_page(page, site, shoot):
    sign_in(page, site)
    page.click("#nav-drive")
    consent(page, site.fake)
    drive_box = page.locator(f'input[name=granted_scope][value="{DRIVE_READONLY}"]')
    drive_box.uncheck()
    page.click("#allow")
    page.locator("#error").wait_for()
    shoot(page, "drive-declined")
    assert page.get_attribute("#error", "data-status") == "403"


def test_two_tabs_sign_in_at_once(context, site, shoot):
    first, second = context.new_page(), context.new_page()
    first.goto(site.url + "/authorize?next=/profile")
    second.goto(site.url + "/authorize?next=/userinfo")
    consent(first, site.fake, "alice@example.com")
    consent(second, site.fake, "alice@example.com")
    second.click("#allow")
    second.wait_for_url(site.url + "/userinfo")
    first.click("#allow")
    first.wait_for_url(site.url + "/profile")
    shoot(first, "first-tab")
    assert first.inner_text("#claim-email") == "alice@example.com"
    assert second.inner_text("#info-email") == "alice@example.com"


def test_revoke(page, site, shoot):
    sign_in(page, site)
    [token] = stored_token(site)
    assert site.fake.access_token_is_valid(token)
    page.click("#revoke")
    page.locator("#sign-in").wait_for()
    shoot(page, "revoked")
    assert "Access revoked" in page.inner_text("#notice")
    assert not site.fake.access_token_is_valid(token)
    assert stored_token(site) == []


def test_logout(page, site, shoot):
    sign_in(page, site)
    page.click("#logout")
    page.locator("#sign-in").wait_for()
    shoot(page, "logged-out")
    assert page.inner_text("#notice") == "You are signed out."
    page.goto(site.url + "/profile")
    consent(page, site.fake)  # signed out: the profile sends us to Google again
    assert len(stored_token(site)) == 1  # logout does not delete stored credentials
