"""The example app's pages with the Flask test client and the in-process fake Google."""

from __future__ import annotations

import json
import sqlite3

import pytest
import requests

from example_app import DRIVE_READONLY, db

from .conftest import follow, path_of, query_of

ORIGIN = {"Origin": "http://localhost"}


def rows(app, query, *args):
    with sqlite3.connect(app.config["EXAMPLE_DATABASE"]) as connection:
        return connection.execute(query, args).fetchall()


def test_home_offers_sign_in_and_no_dev_banner(client):
    page = client.get("/").get_data(as_text=True)
    assert "Sign in with Google" in page
    assert 'href="/authorize?next=' in page
    assert "Development mode" not in page


def test_sign_in_shows_the_verified_claims_on_the_profile(client, google_login, app):
    response = google_login(client, account="alice@example.com", next="/profile")
    assert response.headers["Location"] == "/profile"
    page = client.get("/profile").get_data(as_text=True)
    assert '<td id="claim-email">alice@example.com</td>' in page
    assert '<td id="claim-name">Alice</td>' in page
    assert "https://www.googleapis.com/auth/userinfo.email" in page
    assert "Sign out" in page and "Revoke access" in page
    assert db.store_count(app=app) == 1


def test_credentials_are_stored_by_sub_without_secrets(client, google_login, app, fake_google):
    account = fake_google.add_account("carol@example.com")
    google_login(client, account="carol@example.com")
    [(sub, email, data)] = rows(app, "SELECT sub, email, data FROM credentials")
    assert (sub, email) == (account.sub, "carol@example.com")
    stored = json.loads(data)
    assert stored["token"] and stored["refresh_token"]
    assert fake_google.default_client.client_secret not in data
    assert db.store_count(account.sub, app=app) == 1


@pytest.mark.fake_google(access_token_lifetime=60)
def test_a_second_sign_in_keeps_the_refresh_token(
    client, google_login, app, fake_google, monkeypatch
):
    """GoogleFlow carries the stored refresh token (read via ``load``) into ``store``."""
    token_responses = []
    exchange_code = fake_google.exchange_code

    def recording_exchange_code(*args, **kwargs):
        response = exchange_code(*args, **kwargs)
        token_responses.append(response)
        return response

    monkeypatch.setattr(fake_google, "exchange_code", recording_exchange_code)
    google_login(client, account="dave@example.com")
    first = json.loads(rows(app, "SELECT data FROM credentials")[0][0])
    # A new browser (no session) signs in again: Google sends no refresh token.
    again = app.test_client()
    google_login(again, account="dave@example.com")
    assert [bool(r.get("refresh_token")) for r in token_responses] == [True, False]
    second = json.loads(rows(app, "SELECT data FROM credentials")[0][0])
    assert second["token"] != first["token"]
    assert second["refresh_token"] == first["refresh_token"]
    # store was handed credentials that already had it, both times.
    audit = rows(app, "SELECT had_refresh_token FROM store_audit ORDER BY id")
    assert audit == [(1,), (1,)]
    # The kept refresh token still works: the (near-expired) token is refreshed.
    assert again.get("/userinfo").status_code == 200
    assert db.store_count(app=app) == 3


@pytest.mark.parametrize("path", ["/profile", "/userinfo", "/profile?tab=scopes"])
def test_pages_send_an_anonymous_user_to_sign_in_and_back(path, client, fake_google):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/authorize?")
    assert query_of(response.headers["Location"]) == {"next": path}
    assert response.headers["Cache-Control"] == "no-store"
    assert fake_google.request_counts["userinfo"] == 0


def test_anonymous_user_signs_in_and_lands_on_the_page(client, fake_google):
    response = follow(client, fake_google, client.get("/userinfo"))
    assert response.status_code == 200
    assert 'id="info-email">' in response.get_data(as_text=True)


def test_userinfo_page_calls_google_with_the_access_token(client, google_login, fake_google):
    google_login(client, account="erin@example.com")
    response = client.get("/userinfo")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<td id="info-email">erin@example.com</td>' in page
    assert fake_google.request_counts["userinfo"] == 1


def test_userinfo_call_uses_the_configured_api_timeout(make_app, google_login, monkeypatch):
    client = make_app(GOOGLE_FLOW_API_TIMEOUT=7.5).test_client()
    google_login(client)
    timeouts = []
    request = requests.Session.request

    def recording_request(self, method, url, *args, **kwargs):
        if "userinfo" in url:
            timeouts.append(kwargs.get("timeout"))
        return request(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording_request)
    assert client.get("/userinfo").status_code == 200
    assert timeouts == [7.5]


def test_userinfo_page_failure_is_a_friendly_page(client, google_login, fake_google):
    google_login(client)
    fake_google.fail("userinfo", "server_error", status=503)
    response = client.get("/userinfo")
    assert response.status_code == 502
    assert 'id="error-title">Google API call failed' in response.get_data(as_text=True)


@pytest.mark.fake_google(access_token_lifetime=60)
def test_an_expired_token_is_refreshed_and_handed_to_store(client, google_login, app):
    """google-auth treats a token this close to expiry as expired: the call refreshes it."""
    google_login(client)
    assert db.store_count(app=app) == 1
    assert client.get("/userinfo").status_code == 200
    assert db.store_count(app=app) == 2


def test_drive_page_asks_for_the_extra_scope_and_comes_back(client, google_login, fake_google):
    google_login(client)
    response = client.get("/drive")
    assert response.status_code == 302
    response = client.get(path_of(response.headers["Location"]))
    location = response.headers["Location"]
    assert location.startswith(fake_google.endpoints.authorization)
    query = query_of(location)
    assert DRIVE_READONLY in query["scope"].split()
    assert query["include_granted_scopes"] == "true"
    final = follow(client, fake_google, response)
    assert final.status_code == 200
    page = final.get_data(as_text=True)
    assert 'id="drive-granted"' in page
    assert DRIVE_READONLY in page
    assert "https://www.googleapis.com/auth/userinfo.email" in page  # earlier grant kept


def test_drive_page_with_the_scope_granted_at_sign_in(client, google_login):
    google_login(client, scopes=["openid", "email", "profile", DRIVE_READONLY])
    assert client.get("/drive").status_code == 200


def test_declining_the_extra_scope_shows_a_403_page(client, google_login, fake_google):
    google_login(client)
    response = follow(
        client, fake_google, client.get("/drive"), granted_scopes=["openid", "email", "profile"]
    )
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'id="error"' in page
    assert 'id="drive-granted"' not in page


def test_cancel_at_consent_shows_the_friendly_page(client, google_login, app):
    response = google_login.deny(client, next="/profile")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert 'id="error-title">Sign-in cancelled' in page
    assert 'data-error-code="access_denied"' in page
    assert 'href="/"' in page
    assert db.store_count(app=app) == 0


def test_a_replayed_callback_shows_the_friendly_page(client, google_login, fake_google):
    location = google_login.start(client)
    callback = path_of(fake_google.approve(location))
    assert client.get(callback).status_code == 302
    response = client.get(callback)
    assert response.status_code == 400
    assert 'data-error-code="unknown_state"' in response.get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert 'id="error-title">Not Found' in response.get_data(as_text=True)


def test_logout_signs_out_but_keeps_stored_credentials(client, google_login, app):
    google_login(client)
    page = client.get("/").get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/?signed_out=1">' in page
    response = client.post("/logout", data={"next": "/?signed_out=1"}, headers=ORIGIN)
    assert response.status_code in (302, 303)
    page = client.get(path_of(response.headers["Location"])).get_data(as_text=True)
    assert "Sign in with Google" in page
    assert 'id="notice" role="status">You are signed out.' in page
    assert client.get("/profile").status_code == 302
    assert len(rows(app, "SELECT sub FROM credentials")) == 1


def test_revoke_when_google_fails_still_signs_out(client, google_login, app, fake_google):
    google_login(client)
    fake_google.fail("revoke", "server_error")
    response = client.post("/revoke", headers=ORIGIN)
    page = client.get(path_of(response.headers["Location"])).get_data(as_text=True)
    assert "Google could not confirm the revocation" in page
    assert rows(app, "SELECT sub FROM credentials") == []


def test_logout_from_another_origin_is_refused(client, google_login):
    google_login(client)
    response = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert client.get("/profile").status_code == 200


def test_revoke_revokes_at_google_and_deletes_stored_credentials(
    client, google_login, app, fake_google
):
    google_login(client)
    [(data,)] = rows(app, "SELECT data FROM credentials")
    token = json.loads(data)["token"]
    assert fake_google.access_token_is_valid(token)
    response = client.post("/revoke", headers=ORIGIN)
    assert response.status_code in (302, 303)
    assert not fake_google.access_token_is_valid(token)
    assert rows(app, "SELECT sub FROM credentials") == []
    page = client.get(path_of(response.headers["Location"])).get_data(as_text=True)
    assert "Sign in with Google" in page
    assert "Access revoked" in page


def test_pages_escape_what_they_show(client, google_login, fake_google):
    fake_google.add_account("mallory@example.com", name="<script>alert(1)</script>")
    google_login(client, account="mallory@example.com")
    page = client.get("/profile").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_no_token_appears_in_any_page(client, google_login, app):
    google_login(client)
    [(data,)] = rows(app, "SELECT data FROM credentials")
    stored = json.loads(data)
    for path in ("/", "/profile", "/userinfo"):
        page = client.get(path).get_data(as_text=True)
        assert stored["token"] not in page
        assert stored["refresh_token"] not in page


def test_userinfo_page_timeout_is_a_friendly_page(client, google_login, fake_google):
    google_login(client)
    fake_google.fail("userinfo", "timeout")
    response = client.get("/userinfo")
    assert response.status_code == 504
    assert 'id="error-title">Google API call failed' in response.get_data(as_text=True)
