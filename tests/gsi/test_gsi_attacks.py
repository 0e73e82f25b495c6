"""Every refusal of POST /gsi: 400, nothing stored, not signed in, one WARNING naming why."""

from __future__ import annotations

import logging

import pytest

from flask_google_flow.ext.storage import SESSION_USER_KEY
from tests.gsi.conftest import page_nonce, post_gsi


@pytest.fixture
def refused(client, stored, caplog):
    """Check a /gsi response is a refusal for *reason* that left no trace."""
    caplog.set_level(logging.INFO, logger="flask_google_flow")

    def check(response, reason: str, *secrets: str) -> None:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert stored == []
        with client.session_transaction() as sess:
            assert SESSION_USER_KEY not in sess
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert reason in warnings[0].getMessage()
        page = response.get_data(as_text=True)
        for secret in secrets:
            assert secret not in page
            assert secret not in caplog.text

    return check


# -- g_csrf_token double submit ------------------------------------------------------


def test_missing_csrf_cookie(client, fake, refused):
    nonce = page_nonce(client)
    credential = fake.gsi_credential(nonce=nonce)
    refused(post_gsi(client, credential, csrf_cookie=None), "csrf", credential, nonce)


def test_missing_csrf_field(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    refused(post_gsi(client, credential, csrf_field=None), "csrf", credential)


def test_mismatched_csrf_token(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    response = post_gsi(client, credential, csrf_cookie="aaaa", csrf_field="bbbb")
    refused(response, "csrf", credential)


def test_empty_csrf_cookie_and_field(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    refused(post_gsi(client, credential, csrf_cookie="", csrf_field=""), "csrf")


def test_csrf_failure_does_not_burn_the_nonce(client, fake, stored):
    nonce = page_nonce(client)
    credential = fake.gsi_credential(nonce=nonce)
    assert post_gsi(client, credential, csrf_cookie=None).status_code == 400
    assert post_gsi(client, credential).status_code == 302
    assert len(stored) == 1


# -- the ID token ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("bad_signature", "signature"),
        ("alg_none", "malformed"),
        ("unknown_kid", "unknown_key"),
        ("wrong_aud", "audience"),
        ("wrong_iss", "issuer"),
        ("expired", "expired"),
        ("wrong_nonce", "nonce"),
    ],
)
def test_tampered_id_token(client, fake, refused, tamper, reason):
    nonce = page_nonce(client)
    fake.tamper_id_token(tamper)
    credential = fake.gsi_credential(nonce=nonce)
    refused(post_gsi(client, credential), reason, credential)


def test_token_for_another_client(client, fake, refused):
    other = fake.add_client()
    credential = fake.gsi_credential(nonce=page_nonce(client), client_id=other.client_id)
    refused(post_gsi(client, credential), "audience", credential)


def test_expired_by_the_clock(client, fake, clock, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    clock.advance(fake.id_token_lifetime + 120)
    refused(post_gsi(client, credential), "expired", credential)


def test_not_a_jwt(client, refused):
    page_nonce(client)
    refused(post_gsi(client, "not-a-token"), "malformed")


def test_hosted_domain(make_app, fake, stored, caplog):
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    app = make_app(hosted_domain="corp.example.com")
    client = app.test_client()
    outsider = fake.add_account("eve@gmail.example")
    response = post_gsi(client, fake.gsi_credential(outsider, nonce=page_nonce(client)))
    assert response.status_code == 400
    assert stored == []
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "flask-google-flow: GIS sign-in refused (hosted_domain)"
    ]
    insider = fake.add_account("ann@corp.example.com", hosted_domain="corp.example.com")
    credential = fake.gsi_credential(insider, nonce=page_nonce(client))
    assert post_gsi(client, credential).status_code == 302


# -- the nonce ---------------------------------------------------------------------------


def test_missing_nonce(client, fake, refused):
    page_nonce(client)
    credential = fake.gsi_credential()
    refused(post_gsi(client, credential), "nonce", credential)


def test_unknown_nonce(client, fake, refused):
    page_nonce(client)
    credential = fake.gsi_credential(nonce="made-up-nonce")
    refused(post_gsi(client, credential), "nonce", credential)


def test_replayed_credential(client, fake, stored, caplog):
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    credential = fake.gsi_credential(nonce=page_nonce(client))
    assert post_gsi(client, credential).status_code == 302
    stored.clear()
    with client.session_transaction() as sess:
        sess.clear()
    response = post_gsi(client, credential)
    assert response.status_code == 400
    assert stored == []
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert messages == ["flask-google-flow: GIS sign-in refused (nonce)"]


def test_nonce_of_another_browser_session(app, fake, refused, client):
    victim = app.test_client()
    nonce = page_nonce(victim)
    credential = fake.gsi_credential(nonce=nonce)
    page_nonce(client)
    refused(post_gsi(client, credential), "nonce", credential)


def test_expired_nonce(client, fake, clock, refused):
    nonce = page_nonce(client)
    clock.advance(601)
    credential = fake.gsi_credential(nonce=nonce)
    refused(post_gsi(client, credential), "nonce", credential)


def test_redirect_flow_state_is_not_a_gsi_nonce(client, fake, refused):
    from tests.sign_in_helpers import query_of, start

    state = query_of(start(client))["state"]
    credential = fake.gsi_credential(nonce=state)
    refused(post_gsi(client, credential), "nonce", credential)


def test_gsi_nonce_is_not_a_redirect_flow_state(client, fake, stored):
    nonce = page_nonce(client)
    response = client.get("/oauth2callback", query_string={"state": nonce, "code": "x"})
    assert response.status_code == 400
    assert fake.request_counts["token"] == 0
    assert stored == []


# -- size and shape of the fields ----------------------------------------------------------


def test_oversize_credential(client, refused):
    page_nonce(client)
    refused(post_gsi(client, "a" * 16385), "field")


def test_oversize_csrf_token(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    big = "c" * 300
    refused(post_gsi(client, credential, csrf_cookie=big, csrf_field=big), "csrf")


def test_oversize_body(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    refused(post_gsi(client, credential, data={"padding": "p" * 70000}), "field")


def test_oversize_select_by(client, fake, refused):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    refused(post_gsi(client, credential, data={"select_by": "s" * 65}), "field")


def test_credential_sent_twice(client, fake):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    client.set_cookie("g_csrf_token", "t")
    response = client.post(
        "/gsi",
        data={"credential": [credential, credential], "g_csrf_token": "t"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 400


def test_missing_credential(client, refused):
    page_nonce(client)
    refused(post_gsi(client, None), "field")


# -- origin -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.com"},
        {"Origin": "null"},
        {"Origin": "http://localhost:8080"},
        {"Origin": "https://localhost"},
        {"Origin": "https://accounts.google.com.evil.example"},
        {"Referer": "https://evil.example.com/page"},
        {},
    ],
)
def test_cross_origin_post(client, fake, refused, headers):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    refused(post_gsi(client, credential, origin=None, headers=headers), "origin", credential)


def test_googles_origin_is_accepted(client, fake):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    assert post_gsi(client, credential, origin="https://accounts.google.com").status_code == 302


def test_same_origin_referer_without_origin_is_accepted(client, fake):
    credential = fake.gsi_credential(nonce=page_nonce(client))
    response = post_gsi(client, credential, origin=None, headers={"Referer": "http://localhost/p"})
    assert response.status_code == 302


def test_allowed_origins_are_configurable(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_GSI_ALLOWED_ORIGINS": ""})
    client = app.test_client()
    credential = fake.gsi_credential(nonce=page_nonce(client))
    assert post_gsi(client, credential, origin="https://accounts.google.com").status_code == 400


def test_get_is_not_allowed(client):
    assert client.get("/gsi").status_code == 405


def test_login_failed_signal(app, client, fake):
    from flask_google_flow import signals

    seen = []
    with signals.login_failed.connected_to(lambda sender, **kw: seen.append(kw), app):
        post_gsi(client, fake.gsi_credential(nonce=page_nonce(client)), csrf_cookie=None)
    assert [e["error"].reason for e in seen] == ["csrf"]
