"""Every way a callback can be wrong: each a clear 4xx/5xx, nothing stored, no secret shown."""

from __future__ import annotations

import logging

import pytest

from flask_google_flow import signals
from tests.sign_in_helpers import callback_path, query_of, sign_in, start

SECRET_MARKERS = ("GOCSPX", "ya29.", "1//0", "4/0")


def assert_clean_error_page(response, status):
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    for marker in SECRET_MARKERS:
        assert marker not in body
    return body


def nothing_stored(client, stored):
    assert stored == []
    with client.session_transaction() as sess:
        assert "_google_flow_user" not in sess


def test_missing_state_is_400(client, stored):
    response = client.get("/oauth2callback?code=abc")
    body = assert_clean_error_page(response, 400)
    assert "sign in again" in body
    nothing_stored(client, stored)


def test_unknown_state_is_400_and_the_token_endpoint_is_not_called(client, fake, stored):
    start(client)
    response = client.get("/oauth2callback?state=made-up&code=abc")
    assert_clean_error_page(response, 400)
    assert fake.request_counts["token"] == 0
    nothing_stored(client, stored)


def test_replayed_callback_is_refused(client, fake, stored):
    callback = callback_path(fake.approve(start(client)))
    assert client.get(callback).status_code == 302
    assert client.get(callback).status_code == 400
    assert fake.request_counts["token"] == 1
    assert len(stored) == 1


def test_state_is_consumed_even_when_the_sign_in_fails(client, fake, stored):
    location = start(client)
    denied = callback_path(fake.deny(location))
    assert client.get(denied).status_code == 403
    approved = callback_path(fake.approve(location))
    assert client.get(approved).status_code == 400
    nothing_stored(client, stored)


def test_expired_pending_flow_is_refused(client, fake, clock, stored):
    location = start(client)
    callback = callback_path(fake.approve(location))
    clock.advance(601)
    response = client.get(callback)
    assert_clean_error_page(response, 400)
    assert fake.request_counts["token"] == 0
    nothing_stored(client, stored)


def test_state_from_another_browser_session_is_refused(app, fake, stored):
    """Login CSRF: the attacker's own (valid) callback replayed in the victim's browser."""
    attacker, victim = app.test_client(), app.test_client()
    start(victim)
    attacker_callback = callback_path(fake.approve(start(attacker)))
    response = victim.get(attacker_callback)
    assert_clean_error_page(response, 400)
    assert fake.request_counts["token"] == 0
    nothing_stored(victim, stored)
    # and the attacker's flow is still theirs to finish
    assert attacker.get(attacker_callback).status_code == 302


def test_access_denied_is_403_and_ends_the_flow(client, fake, stored):
    response = client.get(callback_path(fake.deny(start(client))))
    body = assert_clean_error_page(response, 403)
    assert "cancelled" in body
    nothing_stored(client, stored)


def test_other_provider_error_is_400_and_error_uri_is_never_rendered(client, stored):
    state = query_of(start(client))["state"]
    response = client.get(
        "/oauth2callback",
        query_string={
            "state": state,
            "error": "invalid_scope",
            "error_description": "<script>alert(1)</script>",
            "error_uri": "https://evil.example/phish",
        },
    )
    body = assert_clean_error_page(response, 400)
    assert "invalid_scope" in body
    assert "evil.example" not in body
    assert "<script>" not in body
    nothing_stored(client, stored)


def test_issuer_mismatch_is_refused_before_the_token_endpoint(client, fake, stored):
    callback = fake.approve(start(client)).replace(
        "iss=https%3A%2F%2Faccounts.google.com", "iss=https%3A%2F%2Fevil.example"
    )
    assert "evil.example" in callback
    response = client.get(callback_path(callback))
    assert_clean_error_page(response, 400)
    assert fake.request_counts["token"] == 0
    nothing_stored(client, stored)


def test_both_google_issuer_spellings_are_accepted(client, fake, stored):
    callback = fake.approve(start(client)).replace(
        "iss=https%3A%2F%2Faccounts.google.com", "iss=accounts.google.com"
    )
    assert client.get(callback_path(callback)).status_code == 302


@pytest.mark.parametrize("name", ["state", "code", "iss"])
def test_duplicated_parameters_are_400(client, fake, name, stored):
    callback = callback_path(fake.approve(start(client)))
    value = query_of(callback)[name]
    response = client.get(f"{callback}&{name}={value}")
    assert_clean_error_page(response, 400)
    assert fake.request_counts["token"] == 0
    nothing_stored(client, stored)


def test_callback_without_code_is_400(client, stored):
    state = query_of(start(client))["state"]
    assert_clean_error_page(client.get(f"/oauth2callback?state={state}"), 400)
    nothing_stored(client, stored)


def test_head_request_consumes_nothing(client, fake, stored):
    callback = callback_path(fake.approve(start(client)))
    head = client.head(callback)
    assert head.status_code == 200
    assert fake.request_counts["token"] == 0
    assert client.get(callback).status_code == 302


def test_post_to_the_callback_is_405(client, fake):
    callback = callback_path(fake.approve(start(client)))
    assert client.post(callback).status_code == 405


def test_invalid_grant_means_start_again(client, fake, clock, stored):
    location = start(client)
    callback = callback_path(fake.approve(location))
    clock.advance(120)  # the code (60 s) expired, the pending flow (600 s) did not
    response = client.get(callback)
    body = assert_clean_error_page(response, 400)
    assert "sign in again" in body.lower()
    nothing_stored(client, stored)


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("server_error", 502),
        ("timeout", 504),
        ("connect_timeout", 504),
        ("not_json", 502),
        ("missing_access_token", 502),
        ("mac_token_type", 502),
    ],
)
def test_token_endpoint_failures(client, fake, kind, status, stored):
    fake.fail_token(kind)
    response = sign_in(client, fake)
    assert_clean_error_page(response, status)
    nothing_stored(client, stored)
    # Google recovered: a fresh sign-in works.
    assert sign_in(client, fake).status_code == 302


def test_store_raising_keeps_nothing_and_allows_a_retry(make_app, fake):
    from flask_google_flow import GoogleFlow

    extension = GoogleFlow()
    calls = []

    @extension.store
    def save(credentials, id_info):
        calls.append(id_info["sub"])
        if len(calls) == 1:
            raise RuntimeError("database is down")

    app = make_app(extension=extension)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = sign_in(client, fake)
    assert_clean_error_page(response, 500)
    with client.session_transaction() as sess:
        assert "_google_flow_user" not in sess
    assert sign_in(client, fake, prompt="consent").status_code == 302
    assert len(calls) == 2


def test_failure_signal_and_success_signal(app, client, fake):
    failures, successes = [], []

    def on_failure(sender, error, **extra):
        failures.append(error.error_code)

    def on_success(sender, credentials, id_info, granted_scopes, requested_scopes, **extra):
        successes.append((id_info["email"], granted_scopes, requested_scopes))

    with (
        signals.login_failed.connected_to(on_failure, app),
        signals.login_succeeded.connected_to(on_success, app),
    ):
        client.get(callback_path(fake.deny(start(client))))
        sign_in(client, fake)
    assert failures == ["access_denied"]
    [(email, granted, requested)] = successes
    assert email == "tester@example.com"
    assert requested == ["openid", "email", "profile"]
    assert "openid" in granted


def test_no_secret_reaches_any_log_line(client, fake, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    sign_in(client, fake)
    fake.fail_token("server_error")
    sign_in(client, fake)
    fake.tamper_id_token("wrong_aud")
    sign_in(client, fake)
    text = "\n".join(r.getMessage() for r in caplog.records)
    text += "\n".join(str(r.args) for r in caplog.records)
    assert "GOCSPX" not in text  # client secret
    assert "ya29" not in text  # access tokens
    assert "code_verifier" not in text
    assert "1//0" not in text  # refresh tokens
    assert "4/0" not in text  # authorization codes
