"""The framework-neutral SET pieces: token identifiers, the RISC configuration cache."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from flask_google_flow.core.security_events import (
    RiscConfiguration,
    RiscConfigurationCache,
    refresh_token_identifiers,
    token_identifier_key,
)
from flask_google_flow.exceptions import (
    InsecureTransportError,
    MalformedResponseError,
    ProviderUnavailableError,
)


def test_refresh_token_identifiers_are_googles_prefix_and_double_sha512():
    token = "1//0gabcdefghijklmnopqrstuvwxyz-0123456789"
    ids = dict(refresh_token_identifiers(token))
    assert ids["prefix"] == "1//0gabcdefghijk"
    expected = hashlib.sha512(hashlib.sha512(token.encode()).digest()).digest()
    assert base64.b64decode(ids["hash_base64_sha512_sha512"]) == expected


def test_identifier_keys_ignore_the_base64_spelling():
    ids = dict(refresh_token_identifiers("1//0-some-token-value"))
    standard = ids["hash_base64_sha512_sha512"]
    urlsafe = standard.replace("+", "-").replace("/", "_").rstrip("=")
    key = token_identifier_key("hash_base64_sha512_sha512", standard)
    assert key is not None
    assert token_identifier_key("hash_base64_sha512_sha512", urlsafe) == key
    assert token_identifier_key("prefix", ids["prefix"]) not in (None, key)


@pytest.mark.parametrize(
    ("alg", "token"),
    [
        ("prefix", "too-short"),
        ("prefix", "x" * 17),
        ("hash_base64_sha512_sha512", "not base64 !"),
        ("hash_base64_sha512_sha512", base64.b64encode(b"short").decode()),
        ("plain", "1//0-some-token-value"),
    ],
)
def test_identifier_keys_refuse_what_google_does_not_send(alg, token):
    assert token_identifier_key(alg, token) is None


class Documents:
    """A fetch function serving scripted documents (or raising)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, url: str):
        self.calls.append(url)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer, {"Cache-Control": "max-age=100"}


CONFIG = {"issuer": "https://accounts.google.com/", "jwks_uri": "https://keys.example/certs"}


def test_configuration_is_cached_per_its_headers():
    now = [1000.0]
    fetch = Documents(CONFIG)
    cache = RiscConfigurationCache(
        fetch, "https://accounts.google.com/.well-known/risc-configuration",
        fetch_keys=Documents({}), clock=lambda: now[0],
    )  # fmt: skip
    first, certs = cache.current()
    assert first == RiscConfiguration(**CONFIG)
    assert cache.current() == (first, certs)
    assert len(fetch.calls) == 1
    now[0] += 101
    assert cache.current()[1] is certs  # same jwks_uri: the key cache is kept
    assert len(fetch.calls) == 2


def test_a_new_jwks_uri_gets_a_new_key_cache():
    now = [0.0]
    moved = {**CONFIG, "jwks_uri": "https://keys.example/v2"}
    cache = RiscConfigurationCache(
        Documents(CONFIG, moved), "https://a.example/conf", fetch_keys=Documents({}),
        clock=lambda: now[0],
    )  # fmt: skip
    _, old = cache.current()
    now[0] += 101
    _, new = cache.current()
    assert new is not old and new.url == "https://keys.example/v2"


def test_a_failed_refetch_keeps_the_last_good_configuration():
    now = [0.0]
    failure = ProviderUnavailableError("down", endpoint="risc-configuration")
    cache = RiscConfigurationCache(
        Documents(CONFIG, failure), "https://a.example/conf", fetch_keys=Documents({}),
        clock=lambda: now[0],
    )  # fmt: skip
    good = cache.current()
    now[0] += 101
    assert cache.current() == good


def test_the_first_failure_propagates():
    failure = ProviderUnavailableError("down", endpoint="risc-configuration")
    cache = RiscConfigurationCache(
        Documents(failure), "https://a.example/c", fetch_keys=Documents({})
    )
    with pytest.raises(ProviderUnavailableError):
        cache.current()


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"issuer": "x"},
        {"issuer": "x", "jwks_uri": "http://keys.example/certs"},
        {"issuer": 1, "jwks_uri": "https://k.example"},
    ],
)
def test_unusable_configurations(document):
    cache = RiscConfigurationCache(
        Documents(document), "https://a.example/c", fetch_keys=Documents({})
    )
    with pytest.raises(MalformedResponseError):
        cache.current()


def test_the_configuration_url_must_be_https():
    with pytest.raises(InsecureTransportError):
        RiscConfigurationCache(Documents(CONFIG), "http://a.example/c", fetch_keys=Documents({}))
