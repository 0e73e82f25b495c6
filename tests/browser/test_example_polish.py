"""The example app on a phone (390 px): nothing overflows; yes/no booleans; a favicon.

Also the fake consent page of an incremental request, which lists the new
permission apart from those already granted, as Google's does.
"""

from __future__ import annotations

from typing import Any

import pytest

from example_app import DRIVE_READONLY

from .test_sign_in import consent

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture
def phone(browser: Any):
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Any, site: Any) -> None:
    page.goto(site.url + "/")
    page.click("#sign-in-main")
    consent(page, site.fake, "alice@example.com")
    page.click("#allow")
    page.wait_for_url(site.url + "/profile")


def test_profile_fits_a_phone_and_shows_yes_no(phone, site, shoot):
    page = phone
    page.goto(site.url + "/")
    shoot(page, "home")
    assert page.evaluate(NO_OVERFLOW)
    _sign_in(page, site)
    shoot(page, "profile")
    assert page.evaluate(NO_OVERFLOW), page.evaluate("document.documentElement.scrollWidth")
    assert page.inner_text("#claim-email_verified") == "yes"
    assert page.inner_text("#claim-aud") == site.fake.client_config()["web"]["client_id"]
    # Long values wrap inside their cell instead of widening the page.
    box = page.locator("#claim-aud").bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    for item in page.locator("#scopes li").all():
        item_box = item.bounding_box()
        assert item_box["x"] + item_box["width"] <= PHONE["width"]


def test_drive_and_userinfo_pages_fit_a_phone(phone, site, shoot):
    page = phone
    _sign_in(page, site)
    page.goto(site.url + "/userinfo")
    shoot(page, "userinfo")
    assert page.evaluate(NO_OVERFLOW)
    assert page.inner_text("#info-email_verified") == "yes"
    page.goto(site.url + "/drive")
    consent(page, site.fake)
    shoot(page, "incremental-consent")
    assert page.evaluate(NO_OVERFLOW)
    page.click("#allow")
    page.wait_for_url(site.url + "/drive")
    shoot(page, "drive")
    assert page.evaluate(NO_OVERFLOW)


def test_the_favicon_is_served(page, site):
    page.goto(site.url + "/")
    href = page.get_attribute("link[rel=icon]", "href")
    assert href
    response = page.request.get(site.url + href)
    assert response.ok
    assert response.headers["content-type"].startswith("image/")


def test_incremental_consent_lists_the_new_scope_apart(page, site, shoot):
    _sign_in(page, site)
    page.goto(site.url + "/drive")
    consent(page, site.fake)
    shoot(page, "incremental")
    new = page.locator("#new-scopes input[name=granted_scope]")
    assert [new.nth(i).get_attribute("value") for i in range(new.count())] == [DRIVE_READONLY]
    already = page.inner_text("#granted-scopes")
    assert "openid" in already and "email" in already
    assert DRIVE_READONLY not in already
    page.click("#allow")
    page.wait_for_url(site.url + "/drive")
    assert DRIVE_READONLY in page.inner_text("#scopes")
