"""The authorization-code + PKCE exchange, refresh, revoke and userinfo, in both modes."""

from __future__ import annotations

import pytest

from .conftest import REDIRECT_URI, query


def test_full_code_exchange_with_pkce(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    params = query(callback)
    assert callback.startswith(REDIRECT_URI + "?")
    assert params["state"] == "state-123"
    assert params["iss"] == google.fake.issuer
    response = google.redeem(callback, verifier)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599
    assert body["access_token"].startswith("ya29.")
    assert body["refresh_token"].startswith("1//")
    assert body["scope"].split() == [
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
    ]
    assert body["id_token"].count(".") == 2


def test_server_mode_issuer_is_base_url(server):
    assert server.fake.issuer == server.fake.base_url == server.fake.back_channel_url
    assert server.fake.base_url.startswith("https://127.0.0.1:")


def test_in_process_uses_google_urls(in_process):
    endpoints = in_process.fake.endpoints
    assert endpoints.issuer == "https://accounts.google.com"
    assert endpoints.authorization == "https://accounts.google.com/o/oauth2/v2/auth"
    assert endpoints.token == "https://oauth2.googleapis.com/token"
    assert endpoints.userinfo == "https://openidconnect.googleapis.com/v1/userinfo"


def test_code_replay_fails_and_revokes_tokens_issued_from_it(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    first = google.redeem(callback, verifier).json()
    replay = google.redeem(callback, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert not google.fake.access_token_is_valid(first["access_token"])
    refreshed = google.refresh(first["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_wrong_or_missing_verifier_is_refused_and_code_stays_usable(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    wrong = google.redeem(callback, "x" * 43)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    missing = google.redeem(callback, "")
    assert missing.json()["error"] == "invalid_grant"
    assert google.redeem(callback, verifier).status_code == 200


def test_wrong_redirect_uri_at_token_endpoint(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    response = google.redeem(callback, verifier, redirect_uri="http://localhost/other")
    assert response.status_code == 400
    assert response.json()["error"] == "redirect_uri_mismatch"


def test_unknown_code(google):
    response = google.token(
        {"grant_type": "authorization_code", "code": "4/0nope", "redirect_uri": REDIRECT_URI}
    )
    assert response.json()["error"] == "invalid_grant"


def test_code_expires_against_the_injected_clock(google):
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    google.clock.advance(61)
    response = google.redeem(callback, verifier)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


def test_code_lifetime_is_configurable(google):
    google.fake.code_lifetime = 5
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url)
    google.clock.advance(4)
    assert google.redeem(callback, verifier).status_code == 200


def test_code_is_bound_to_its_client(google):
    other = google.fake.add_client("other-client", "other-secret", redirect_uris=[REDIRECT_URI])
    url, verifier = google.authorization_url()
    code = query(google.fake.approve(url))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": other.client_id,
        "client_secret": other.client_secret,
    }
    response = google.session.post(google.fake.endpoints.token, data=data, timeout=5)
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("basic", [True, False], ids=["basic", "client_secret_post"])
def test_client_authentication_methods(google, basic):
    url, verifier = google.authorization_url()
    code = query(google.fake.approve(url))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    assert google.token(data, basic=basic).status_code == 200


@pytest.mark.parametrize("basic", [True, False], ids=["basic", "client_secret_post"])
def test_wrong_client_secret_is_401_invalid_client(google, basic):
    client = google.fake.default_client
    data = {"grant_type": "refresh_token", "refresh_token": "1//x"}
    if basic:
        response = google.session.post(
            google.fake.endpoints.token, data=data, auth=(client.client_id, "wrong"), timeout=5
        )
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    else:
        data.update(client_id=client.client_id, client_secret="wrong")
        response = google.session.post(google.fake.endpoints.token, data=data, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_client_and_missing_secret_are_invalid_client(google):
    token_url = google.fake.endpoints.token
    unknown = google.session.post(
        token_url, data={"grant_type": "refresh_token", "client_id": "nobody"}, timeout=5
    )
    missing = google.session.post(
        token_url,
        data={"grant_type": "refresh_token", "client_id": google.fake.default_client.client_id},
        timeout=5,
    )
    assert unknown.status_code == missing.status_code == 401


def test_two_client_authentication_methods_at_once_are_refused(google):
    client = google.fake.default_client
    response = google.session.post(
        google.fake.endpoints.token,
        data={"grant_type": "refresh_token", "client_secret": client.client_secret},
        auth=(client.client_id, client.client_secret),
        timeout=5,
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


def test_unsupported_and_missing_grant_type(google):
    assert google.token({"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert google.token({}).json()["error"] == "invalid_request"


def test_refresh_without_rotation(google):
    tokens = google.login()
    response = google.refresh(tokens["refresh_token"])
    body = response.json()
    assert response.status_code == 200
    assert "refresh_token" not in body
    assert body["access_token"] != tokens["access_token"]
    assert body["scope"] == tokens["scope"]
    assert "id_token" in body
    again = google.refresh(tokens["refresh_token"])
    assert again.status_code == 200


def test_refresh_with_rotation(google):
    google.fake.rotate_refresh_tokens = True
    tokens = google.login()
    body = google.refresh(tokens["refresh_token"]).json()
    assert body["refresh_token"] not in (None, tokens["refresh_token"])
    old = google.refresh(tokens["refresh_token"])
    assert old.json()["error"] == "invalid_grant"
    new = google.refresh(body["refresh_token"])
    assert new.status_code == 200


def test_refresh_scope_may_narrow_but_not_widen(google):
    tokens = google.login(scope="openid email https://www.googleapis.com/auth/drive.readonly")
    refresh = tokens["refresh_token"]
    narrow = google.token(
        {"grant_type": "refresh_token", "refresh_token": refresh, "scope": "email"}
    )
    assert narrow.json()["scope"] == "https://www.googleapis.com/auth/userinfo.email"
    assert "id_token" not in narrow.json()
    wide = google.refresh(refresh, scope="email calendar")
    assert (wide.status_code, wide.json()["error"]) == (400, "invalid_scope")


def test_refresh_token_only_on_first_offline_consent_unless_prompt_consent(google):
    assert "refresh_token" in google.login()
    assert "refresh_token" not in google.login()
    assert "refresh_token" in google.login(prompt="consent")
    assert "refresh_token" not in google.login(access_type="online", prompt="consent")


def test_refresh_token_on_every_consent_toggle(google):
    google.fake.refresh_token_on_every_consent = True
    assert "refresh_token" in google.login()
    assert "refresh_token" in google.login()


def test_no_id_token_without_openid(google):
    tokens = google.login(scope="email")
    assert "id_token" not in tokens
    assert tokens["scope"] == "https://www.googleapis.com/auth/userinfo.email"


def test_scope_aliases_can_be_reported_as_requested(google):
    google.fake.expand_scope_aliases = False
    assert google.login()["scope"] == "openid email profile"


def test_include_granted_scopes_adds_earlier_grants(google):
    google.login(scope="openid email")
    tokens = google.login(
        scope="https://www.googleapis.com/auth/drive.readonly", include_granted_scopes="true"
    )
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/drive.readonly",
    }
    alone = google.login(scope="https://www.googleapis.com/auth/drive.readonly")
    assert alone["scope"] == "https://www.googleapis.com/auth/drive.readonly"


def test_revoke_refresh_token_then_refresh_fails(google):
    tokens = google.login()
    revoked = google.session.post(
        google.fake.endpoints.revocation, data={"token": tokens["refresh_token"]}, timeout=5
    )
    assert revoked.status_code == 200
    response = google.refresh(tokens["refresh_token"])
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")
    assert not google.fake.access_token_is_valid(tokens["access_token"])
    # The consent is gone, so the next offline consent issues a refresh token again.
    assert "refresh_token" in google.login()


def test_revoking_an_access_token_revokes_its_refresh_token(google):
    tokens = google.login()
    google.session.post(
        google.fake.endpoints.revocation, data={"token": tokens["access_token"]}, timeout=5
    )
    response = google.refresh(tokens["refresh_token"])
    assert response.json()["error"] == "invalid_grant"


def test_revoke_unknown_or_revoked_token_is_400_invalid_token(google):
    tokens = google.login()
    url = google.fake.endpoints.revocation
    assert google.session.post(url, data={"token": tokens["refresh_token"]}, timeout=5).ok
    for token in ("nope", tokens["refresh_token"]):
        response = google.session.post(url, data={"token": token}, timeout=5)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_token")
    assert google.session.post(url, data={}, timeout=5).json()["error"] == "invalid_request"


def test_revoked_refresh_token_hook(google):
    tokens = google.login()
    google.fake.revoke_token(tokens["refresh_token"])
    response = google.refresh(tokens["refresh_token"])
    assert response.json()["error"] == "invalid_grant"
    other = google.login(prompt="consent")
    google.fake.revoke_all_tokens()
    assert not google.fake.access_token_is_valid(other["access_token"])


def test_userinfo_claims_follow_granted_scopes(google):
    fake = google.fake
    tokens = google.login()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = google.session.get(fake.endpoints.userinfo, headers=headers, timeout=5).json()
    account = fake.default_account
    assert info == {
        "sub": account.sub,
        "email": account.email,
        "email_verified": True,
        "name": "Test User",
        "given_name": "Test",
        "family_name": "User",
    }
    narrow = google.login(scope="openid")
    headers = {"Authorization": f"Bearer {narrow['access_token']}"}
    assert google.session.get(fake.endpoints.userinfo, headers=headers, timeout=5).json() == {
        "sub": account.sub
    }


def test_userinfo_refuses_unknown_expired_and_revoked_tokens(google):
    url = google.fake.endpoints.userinfo
    unknown = google.session.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert unknown.status_code == 401
    assert "invalid_token" in unknown.headers["WWW-Authenticate"]
    assert google.session.get(url, timeout=5).status_code == 401
    tokens = google.login()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    google.clock.advance(3600)
    assert google.session.get(url, headers=headers, timeout=5).status_code == 401
    fresh = google.login()
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert google.session.get(url, headers=headers, timeout=5).status_code == 200
    google.fake.revoke_token(fresh["access_token"])
    assert google.session.get(url, headers=headers, timeout=5).status_code == 401
