"""The authorization endpoint: validation, approve()/deny(), consent page, prompts."""

from __future__ import annotations

import re

import pytest

from flask_google_flow.testing import AuthorizationRequestError, FakeGoogle

from .conftest import REDIRECT_URI, query


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": None}, "invalid_request"),
        ({"scope": "openid nonsense"}, "invalid_scope"),
        ({"access_type": "forever"}, "invalid_request"),
        ({"prompt": "none consent"}, "invalid_request"),
        ({"include_granted_scopes": "yes"}, "invalid_request"),
    ],
)
def test_invalid_requests_redirect_back_with_error(google, overrides, error):
    url, _ = google.authorization_url(**overrides)
    response = google.session.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    params = query(location)
    assert params["error"] == error
    assert params["state"] == "state-123"
    assert params["iss"] == google.fake.issuer
    with pytest.raises(AuthorizationRequestError) as raised:
        google.fake.approve(url)
    assert raised.value.error == error
    assert raised.value.redirect_url == location


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "nobody"}, "invalid_client"),
        ({"client_id": None}, "invalid_request"),
        ({"redirect_uri": "http://localhost/elsewhere"}, "redirect_uri_mismatch"),
        ({"redirect_uri": "http://localhost/oauth2callback/"}, "redirect_uri_mismatch"),
        ({"redirect_uri": None}, "invalid_request"),
    ],
)
def test_untrusted_client_or_redirect_uri_gets_an_error_page(google, overrides, error):
    url, _ = google.authorization_url(**overrides)
    response = google.session.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert f"Error 400: {error}" in response.text
    assert "Fake Google (testing)" in response.text
    with pytest.raises(AuthorizationRequestError) as raised:
        google.fake.approve(url)
    assert (raised.value.error, raised.value.redirect_url) == (error, None)
    with pytest.raises(AuthorizationRequestError):
        google.fake.deny(url)


def test_registered_redirect_uris_match_exactly(fake):
    fake.register_redirect_uri("https://app.example.com/cb")
    config = fake.client_config(redirect_uris=["http://127.0.0.1:5000/cb"])
    assert config["web"]["redirect_uris"] == [
        REDIRECT_URI,
        "https://app.example.com/cb",
        "http://127.0.0.1:5000/cb",
    ]
    client = fake.default_client
    assert client.accepts_redirect_uri("http://127.0.0.1:5000/cb")
    assert not client.accepts_redirect_uri("http://127.0.0.1:5001/cb")


def test_installed_clients_accept_any_loopback_port(fake):
    client = fake.add_client(client_type="installed", redirect_uris=["http://localhost"])
    config = fake.client_config(client_id=client.client_id)
    assert set(config) == {"installed"}
    assert config["installed"]["client_secret"] == client.client_secret
    for uri in ("http://localhost:8080/", "http://127.0.0.1:49152/", "http://[::1]:1/"):
        assert client.accepts_redirect_uri(uri)
    assert not client.accepts_redirect_uri("https://localhost:8080/")
    assert not client.accepts_redirect_uri("http://example.com:8080/")


def test_client_config_points_at_the_fake(fake):
    web = fake.client_config()["web"]
    assert web["auth_uri"] == "https://accounts.google.com/o/oauth2/v2/auth"
    assert web["token_uri"] == "https://oauth2.googleapis.com/token"
    assert web["client_id"] == fake.default_client.client_id
    with fake.serve() as base_url:
        assert fake.client_config()["web"]["token_uri"] == base_url + "/token"
    with pytest.raises(ValueError, match="no client"):
        fake.client_config(client_id="nobody")


def test_approve_as_another_account_with_state_and_iss(google):
    bob = google.fake.add_account("bob@corp.example", hosted_domain="corp.example")
    url, verifier = google.authorization_url()
    callback = google.fake.approve(url, account="bob@corp.example")
    assert query(callback)["iss"] == google.fake.issuer
    tokens = google.redeem(callback, verifier).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = google.session.get(google.fake.endpoints.userinfo, headers=headers, timeout=5).json()
    assert (info["sub"], info["hd"], info["email"]) == (bob.sub, "corp.example", bob.email)


def test_login_hint_picks_the_account(fake, in_process):
    carol = fake.add_account("carol@example.com")
    tokens = in_process.login(login_hint="Carol@Example.com")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    info = in_process.session.get(fake.endpoints.userinfo, headers=headers, timeout=5).json()
    assert info["sub"] == carol.sub


def test_approve_refuses_unknown_accounts_and_unrequested_scopes(fake):
    url = _url(fake)
    with pytest.raises(ValueError, match="no account"):
        fake.approve(url, account="nobody@example.com")
    with pytest.raises(ValueError, match="not requested"):
        fake.approve(url, granted_scopes=["openid", "https://www.googleapis.com/auth/drive"])
    with pytest.raises(ValueError, match="at least one"):
        fake.approve(url, granted_scopes=[])


def test_approve_refuses_another_authorization_endpoint(fake):
    url = _url(fake).replace("accounts.google.com", "evil.example.com")
    with pytest.raises(ValueError, match="not this fake's authorization endpoint"):
        fake.approve(url)


def test_approve_accepts_the_legacy_auth_uri_of_downloaded_client_secrets(fake):
    url = _url(fake).replace("/o/oauth2/v2/auth", "/o/oauth2/auth")
    assert "code" in query(fake.approve(url))


def test_partial_consent(google):
    url, verifier = google.authorization_url(
        scope="openid email https://www.googleapis.com/auth/drive.readonly"
    )
    callback = google.fake.approve(
        url, granted_scopes=["openid", "https://www.googleapis.com/auth/userinfo.email"]
    )
    tokens = google.redeem(callback, verifier).json()
    assert tokens["scope"] == "openid https://www.googleapis.com/auth/userinfo.email"


def test_deny(google):
    url, _ = google.authorization_url()
    callback = google.fake.deny(url)
    assert callback.startswith(REDIRECT_URI)
    assert query(callback) == {
        "error": "access_denied",
        "state": "state-123",
        "iss": google.fake.issuer,
    }


def test_prompt_none_needs_an_earlier_grant(google):
    url, _ = google.authorization_url(prompt="none")
    response = google.session.get(url, allow_redirects=False, timeout=5)
    assert query(response.headers["Location"])["error"] == "consent_required"
    with pytest.raises(AuthorizationRequestError, match="consent_required"):
        google.fake.approve(url)
    google.login()
    url, verifier = google.authorization_url(prompt="none")
    response = google.session.get(url, allow_redirects=False, timeout=5)
    assert google.redeem(response.headers["Location"], verifier).status_code == 200


def test_non_interactive_fake_approves_on_get(google):
    google.fake.interactive = False
    url, verifier = google.authorization_url()
    response = google.session.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert google.redeem(response.headers["Location"], verifier).status_code == 200


def _url(fake: FakeGoogle) -> str:
    from urllib.parse import urlencode

    from .conftest import pkce_pair

    params = {
        "client_id": fake.default_client.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid email",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    return f"{fake.endpoints.authorization}?{urlencode(params)}"


# -- the interactive consent page, over a real server -----------------------------------


def _form_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input [^>]*>", html):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]*)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag).group(1)
            fields[name] = value.replace("&amp;", "&")
    return fields


def test_consent_page_html(server):
    server.fake.add_account("bob@example.com", name="Bob Builder")
    url, _ = server.authorization_url(login_hint="bob@example.com")
    response = server.session.get(url, timeout=5)
    html = response.text
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Fake Google (testing)" in html
    assert "<script" not in html
    assert 'id="allow"' in html and 'id="cancel"' in html
    assert 'form id="consent" method="post"' in html
    assert re.search(r'id="account-1" value="bob@example.com" checked', html)
    assert html.count('name="granted_scope"') == 3


def test_consent_page_allow_posts_back_and_redirects_with_code(server):
    url, verifier = server.authorization_url()
    html = server.session.get(url, timeout=5).text
    action = re.search(r'action="([^"]*)"', html).group(1)
    assert action == server.fake.endpoints.authorization
    form = {
        **_form_fields(html),
        "account": server.fake.default_account.email,
        "granted_scope": ["openid", "email"],
        "decision": "allow",
    }
    response = server.session.post(action, data=form, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert query(location)["state"] == "state-123"
    tokens = server.redeem(location, verifier).json()
    assert tokens["scope"] == "openid https://www.googleapis.com/auth/userinfo.email"


def test_consent_page_cancel_denies(server):
    url, _ = server.authorization_url()
    html = server.session.get(url, timeout=5).text
    form = {**_form_fields(html), "decision": "cancel"}
    response = server.session.post(
        server.fake.endpoints.authorization, data=form, allow_redirects=False, timeout=5
    )
    assert query(response.headers["Location"])["error"] == "access_denied"


def test_consent_post_is_validated_again(server):
    url, _ = server.authorization_url()
    form = {**_form_fields(server.session.get(url, timeout=5).text), "decision": "allow"}
    no_account = server.session.post(
        server.fake.endpoints.authorization, data=form, allow_redirects=False, timeout=5
    )
    assert no_account.status_code == 400
    form.update(account=server.fake.default_account.email, redirect_uri="http://evil.example/")
    forged = server.session.post(
        server.fake.endpoints.authorization, data=form, allow_redirects=False, timeout=5
    )
    assert forged.status_code == 400
    assert "redirect_uri_mismatch" in forged.text
