"""Malformed callback values are refused by the input checks themselves.

``tests/extension/test_callback_errors.py::test_oversized_or_non_printable_values_are_400``
sends them with a made-up ``state`` ("abc"), which is refused as an unknown
state whatever the input checks do. Here the other parameters are valid (a
real pending state), so only the length/charset checks can refuse them, and the
refusal must be ``invalid_request`` before any call to the token endpoint.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest

from flask_google_flow import signals
from tests.sign_in_helpers import callback_path, query_of, start


def _failed_codes(app, client, url):
    codes = []

    def on_failure(sender, error, **extra):
        codes.append(error.error_code)

    with signals.login_failed.connected_to(on_failure, app):
        response = client.get(url)
    return response, codes


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("code", "c" * 5000),
        ("code", "x\x00y"),
        ("code", "x y"),
        ("code", "x\ry"),
        ("iss", "https://accounts.google.com/" + "i" * 2000),
        ("iss", "https://accounts.google.com\n"),
        ("state", None),  # the real state plus an oversized tail
        ("state", "CR"),  # the real state with a CR inside
    ],
)
def test_malformed_value_with_a_real_state_is_invalid_request(
    app, client, fake, stored, name, value
):
    callback = fake.approve(start(client))
    query = query_of(callback)
    if name == "state" and value is None:
        query["state"] = query["state"] + "s" * 300
    elif name == "state":
        query["state"] = query["state"][:5] + "\r" + query["state"][5:]
    else:
        query[name] = value
    response, codes = _failed_codes(app, client, "/oauth2callback?" + urlencode(query))
    assert response.status_code == 400
    assert codes == ["invalid_request"]
    assert fake.request_counts["token"] == 0
    assert stored == []


def test_no_verifier_or_code_value_in_any_log_line(client, fake, caplog, monkeypatch):
    """The suite's log test looks for fixed markers ("code_verifier", "4/0"); the
    random verifier itself is never looked for, so logging it would pass there."""
    seen = {}
    original = fake.exchange_code

    def spy(client_, code, redirect_uri, code_verifier):
        seen.update(code=code, verifier=code_verifier)
        return original(client_, code, redirect_uri, code_verifier)

    monkeypatch.setattr(fake, "exchange_code", spy)
    caplog.set_level(logging.DEBUG)
    location = start(client)
    fake.tamper_id_token("wrong_aud")  # a failing sign-in logs a warning
    assert client.get(callback_path(fake.approve(location))).status_code == 401
    assert seen["verifier"] and seen["code"]
    text = "\n".join(r.getMessage() for r in caplog.records)
    text += "\n".join(r.exc_text or "" for r in caplog.records)
    assert seen["verifier"] not in text
    assert seen["code"] not in text
    assert seen["code"][4:] not in text
