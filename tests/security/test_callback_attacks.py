"""Attacks on ``/oauth2callback``: code injection, reflected XSS, leaks via Referer."""

from __future__ import annotations

import requests
from flask import make_response

from flask_google_flow import GoogleFlow
from tests.sign_in_helpers import callback_path, query_of, sign_in, start


def test_injected_code_of_another_sign_in_is_refused_by_pkce(make_app, fake):
    """Code injection (RFC 9700 §4.5): the attacker's own code, put into the victim's
    callback with the victim's valid state, fails the PKCE check; nothing is stored."""
    stored = []
    google_flow = GoogleFlow()

    @google_flow.store
    def save(credentials, id_info):
        stored.append(id_info)

    app = make_app(extension=google_flow)
    victim, attacker = app.test_client(), app.test_client()
    victim_state = query_of(start(victim))["state"]
    attacker_params = query_of(fake.approve(start(attacker), account=fake.default_account.email))

    response = victim.get(
        "/oauth2callback",
        query_string={
            "state": victim_state,
            "code": attacker_params["code"],
            "iss": attacker_params.get("iss"),
        },
    )
    assert response.status_code == 400
    assert stored == []
    assert victim.get("/").get_data(as_text=True) == "home anonymous"


def test_error_parameter_is_escaped_on_the_error_page(client, fake):
    """Reflected XSS through ``error=`` on a callback with a valid state."""
    state = query_of(start(client))["state"]
    response = client.get(
        "/oauth2callback", query_string={"state": state, "error": "<script>alert(1)</script>"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_failed_callback_page_does_not_leak_the_code(client, fake):
    """The error page lives at ``/oauth2callback?code=...``: no-referrer, no-store,
    and the code is not echoed."""
    callback = fake.approve(start(client))
    code = query_of(callback)["code"]
    fake.fail_token("server_error", status=500)
    response = client.get(callback_path(callback))
    assert response.status_code == 502
    assert code not in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_page_returned_by_store_is_sent_with_no_referrer(make_app, fake):
    """RFC 9700 §4.2.4: a document rendered at the redirect URI must not leak the
    authorization response (code, state) to third parties through Referer."""
    google_flow = GoogleFlow()

    @google_flow.store
    def save(credentials, id_info):
        return make_response("<p>Welcome!</p><img src='https://third-party.example/pixel.png'>")

    app = make_app(extension=google_flow)
    client = app.test_client()
    response = sign_in(client, fake)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers.get("Referrer-Policy") == "no-referrer"


def test_fake_consent_page_escapes_reflected_parameters(client, fake):
    """The fake's consent page (served by the example app's dev mode) reflects every
    authorization parameter into hidden inputs; a hostile ``login_hint`` stays text."""
    payload = '"><script>alert(1)</script>'
    location = start(client, login_hint=payload)
    page = requests.get(location, timeout=5)
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
