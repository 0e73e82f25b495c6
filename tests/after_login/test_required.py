"""``@google_flow.required(scopes=...)``: sign-in, incremental consent, declined scopes."""

from __future__ import annotations

from tests.sign_in_helpers import callback_path, query_of, sign_in

from .conftest import CALENDAR, DRIVE, follow_to_google, me


def test_anonymous_is_sent_to_authorize_and_back(client, fake):
    response = client.get("/drive?folder=a%20b")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/authorize?")
    assert query_of(location) == {"next": "/drive?folder=a%20b", "scope": DRIVE}
    google = client.get(location).headers["Location"]
    back = client.get(callback_path(fake.approve(google)))
    assert back.headers["Location"] == "/drive?folder=a%20b"
    assert client.get(back.headers["Location"]).get_data(as_text=True) == "drive files"


def test_bare_decorator_needs_only_a_sign_in(client, fake):
    response = client.get("/signed-in")
    assert query_of(response.headers["Location"]) == {"next": "/signed-in"}
    sign_in(client, fake)
    assert client.get("/signed-in").get_data(as_text=True) == "signed in"


def test_sufficient_scopes_pass_with_alias(client, fake):
    sign_in(client, fake)
    # Google reports "email" as .../userinfo.email: still sufficient
    assert any(s.endswith("userinfo.email") for s in me(client)["granted"])
    assert client.get("/email-only").get_data(as_text=True) == "email ok"


def test_missing_scope_asks_only_for_it_incrementally(client, fake):
    sign_in(client, fake)
    refresh_token = me(client)["refresh_token"]
    response = client.get("/drive")
    assert response.status_code == 302
    assert query_of(response.headers["Location"]) == {"next": "/drive", "scope": DRIVE}
    google = follow_to_google(client, "/drive")
    params = query_of(google)
    assert params["include_granted_scopes"] == "true"
    assert DRIVE in params["scope"].split()
    back = client.get(callback_path(fake.approve(google)))
    assert back.headers["Location"] == "/drive"
    assert client.get("/drive").get_data(as_text=True) == "drive files"
    data = me(client)
    assert DRIVE in data["granted"]
    # Google sent no new refresh token for the incremental consent: the old one is kept
    assert data["refresh_token"] == refresh_token


def test_declined_extra_scope_is_a_403_not_a_loop(client, fake):
    sign_in(client, fake)
    google = follow_to_google(client, "/drive")
    granted = ["openid", "email", "profile"]  # the user unticks Drive
    back = client.get(callback_path(fake.approve(google, granted_scopes=granted)))
    assert back.headers["Location"] == "/drive"
    response = client.get("/drive")
    assert response.status_code == 403
    assert "permission" in response.get_data(as_text=True).lower()
    assert response.headers["Cache-Control"] == "no-store"
    # a fresh, explicit visit asks again (once), and granting it then works
    google = follow_to_google(client, "/drive")
    client.get(callback_path(fake.approve(google)))
    assert client.get("/drive").status_code == 200


def test_declining_on_the_consent_screen_is_a_403(client, fake):
    sign_in(client, fake)
    google = follow_to_google(client, "/drive")
    response = client.get(callback_path(fake.deny(google)))
    assert response.status_code == 403
    assert me(client)["authorized"] is True  # still signed in as before


def test_declined_note_is_per_url(client, fake):
    sign_in(client, fake)
    google = follow_to_google(client, "/drive")
    client.get(callback_path(fake.approve(google, granted_scopes=["openid", "email"])))
    # another page needing the same scope is not refused because of /drive's note
    response = client.get("/drive?other=1")
    assert response.status_code == 302


def test_required_scopes_are_allowed_in_authorize(client, fake):
    assert client.get("/authorize", query_string={"scope": DRIVE}).status_code == 302
    assert client.get("/authorize", query_string={"scope": CALENDAR}).status_code == 302
    unknown = "https://www.googleapis.com/auth/gmail.send"
    assert client.get("/authorize", query_string={"scope": unknown}).status_code == 400


def test_signed_in_without_credentials_reconsents(make_app, fake, clock):
    from flask_google_flow import GoogleFlow

    google_flow = GoogleFlow(clock=clock, store=lambda c, i: None, load=lambda sub: None)
    client = make_app(extension=google_flow).test_client()
    sign_in(client, fake)
    response = client.get("/signed-in")
    assert query_of(response.headers["Location"]) == {"next": "/signed-in", "prompt": "consent"}
