"""``POST /logout`` and ``POST /revoke``: Origin/Referer forms the existing tests do not cover."""

from __future__ import annotations

import pytest

from tests.sign_in_helpers import sign_in


@pytest.mark.parametrize("path", ["/logout", "/revoke"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Referer": "http://localhost@evil.example/"},  # userinfo, host is evil.example
        {"Referer": "http://evil.example/http://localhost/"},
        {"Referer": "//localhost/page"},  # scheme-relative: no origin
        {"Origin": "http://localhost, https://evil.example"},
        {"Origin": "", "Referer": "http://localhost/page"},  # empty Origin is not absent
    ],
)
def test_forged_same_origin_headers_are_refused(client, fake, path, headers):
    sign_in(client, fake)
    response = client.post(path, headers=headers)
    assert response.status_code == 403
    assert client.get("/").get_data(as_text=True) != "home anonymous"
    assert fake.request_counts["revoke"] == 0
