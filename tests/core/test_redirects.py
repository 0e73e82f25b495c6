"""The ``next`` rule: only same-origin relative paths survive."""

from __future__ import annotations

import pytest

from flask_google_flow.core.redirects import MAX_NEXT_URL_LENGTH, safe_next_url

GOOD = [
    "/",
    "/profile",
    "/profile?tab=1#x",
    "/a/b%20c",
    "/a/b?next=/c",
    "/search?q=a%2Fb",
    "/caf%C3%A9",
    "/café",
    "/a:b",
    "/a/../b",
    "/?x=https://example.com",
]

BAD = [
    None,
    "",
    "//evil",
    "//evil.com/path",
    "///evil",
    "/\\evil",
    "\\\\evil",
    "\\/evil",
    "/a\\b",
    "https://evil",
    "http://evil.com/",
    "HTTPS://evil",
    "https:evil",
    "https:/evil",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    "profile",
    "./profile",
    "/%2F%2Fevil.com",
    "/%2f%2fevil.com",
    "/%2Fevil.com",
    "/%5Cevil",
    "/%5cevil",
    "/a%5Cb",
    "/%252F%252Fevil",  # double encoding
    "/%25252F%25252Fevil",  # triple encoding
    "/%0d%0aSet-Cookie:x=1",
    "/%0D%0ALocation:https://evil",
    "/\r\nSet-Cookie: x=1",
    "/\nevil",
    "/\tevil",
    "/\t/evil",
    "/%09/evil",
    "/%00",
    "/\x00",
    "/\x7f",
    " /profile",
    "  //evil",
    "\t/profile",
    "／／evil",  # full-width solidus  # noqa: RUF001
    "/／evil",  # NFKC folds it into //  # noqa: RUF001
    "/%EF%BC%8Fevil",  # percent-encoded full-width solidus
    "/＼evil",  # full-width reverse solidus  # noqa: RUF001
    "/\u2028evil",  # line separator
    "/\u200bevil",  # zero-width space (format character)
    "/\u3000evil",  # ideographic space
    "/" + "a" * MAX_NEXT_URL_LENGTH,
]


@pytest.mark.parametrize("value", GOOD)
def test_same_origin_paths_pass(value: str) -> None:
    assert safe_next_url(value) == value


@pytest.mark.parametrize("value", BAD)
def test_attacks_fall_back_to_the_default(value: str | None) -> None:
    assert safe_next_url(value) == "/"
    assert safe_next_url(value, default="/home") == "/home"


def test_length_cap_is_inclusive() -> None:
    value = "/" + "a" * (MAX_NEXT_URL_LENGTH - 1)
    assert safe_next_url(value) == value


@pytest.mark.parametrize("value", [b"/profile", 42, ["/"], object()])
def test_non_strings_fall_back(value: object) -> None:
    assert safe_next_url(value) == "/"  # type: ignore[arg-type]


def test_malformed_percent_encoding_does_not_raise() -> None:
    assert safe_next_url("/%zz%") == "/%zz%"
    assert safe_next_url("/%ff") == "/%ff"
