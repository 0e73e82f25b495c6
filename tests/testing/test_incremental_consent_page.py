"""The fake consent page of an incremental request lists new scopes apart, as Google's does."""

from __future__ import annotations

import re

DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def _checkboxes(html: str) -> list[str]:
    return re.findall(
        r'<input type="checkbox" name="granted_scope" id="scope-\d+" value="([^"]*)"', html
    )


def _grant_basics(server) -> None:
    url, _ = server.authorization_url()
    server.fake.approve(url, account=server.fake.default_account)


def test_an_incremental_request_shows_only_the_new_scope_as_a_choice(server):
    _grant_basics(server)
    url, _ = server.authorization_url(
        scope=f"openid email profile {DRIVE}", include_granted_scopes="true"
    )
    html = server.session.get(url, timeout=5).text
    assert _checkboxes(html) == [DRIVE]
    kept = re.search(r'<div id="granted-scopes">(.*?)</div>', html).group(1)
    assert "has already given this app access to" in kept
    assert all(scope in kept for scope in ("openid", "email", "profile"))
    assert DRIVE not in kept
    assert "This app wants additional access" in html


def test_without_include_granted_scopes_every_scope_is_a_choice(server):
    _grant_basics(server)
    url, _ = server.authorization_url(scope=f"openid email profile {DRIVE}")
    html = server.session.get(url, timeout=5).text
    assert _checkboxes(html) == ["openid", "email", "profile", DRIVE]
    assert 'id="granted-scopes"' not in html


def test_a_first_incremental_request_has_nothing_to_keep(server):
    url, _ = server.authorization_url(include_granted_scopes="true")
    html = server.session.get(url, timeout=5).text
    assert _checkboxes(html) == ["openid", "email", "profile"]
    assert 'id="granted-scopes"' not in html


def test_the_kept_scopes_are_still_granted(server):
    _grant_basics(server)
    url, verifier = server.authorization_url(
        scope=f"openid email profile {DRIVE}", include_granted_scopes="true"
    )
    html = server.session.get(url, timeout=5).text
    fields = {}
    for tag in re.findall(r'<input type="hidden" name="(?!granted_scope)[^>]*>', html):
        name = re.search(r'name="([^"]*)"', tag).group(1)
        fields[name] = re.search(r'value="([^"]*)"', tag).group(1).replace("&amp;", "&")
    kept = re.findall(r'<input type="hidden" name="granted_scope" value="([^"]*)"', html)
    form = {
        **fields,
        "account": server.fake.default_account.email,
        "granted_scope": [*kept, DRIVE],
        "decision": "allow",
    }
    response = server.session.post(
        server.fake.endpoints.authorization, data=form, allow_redirects=False, timeout=5
    )
    tokens = server.redeem(response.headers["Location"], verifier).json()
    assert DRIVE in tokens["scope"] and "openid" in tokens["scope"]
