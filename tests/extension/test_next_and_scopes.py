"""The `next` rule end to end, extra scopes, partial consent, redirect URI choice."""

from __future__ import annotations

import pytest

from tests.sign_in_helpers import CALLBACK, callback_path, query_of, sign_in, start

OPEN_REDIRECTS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "https:evil.example",
    "http://evil.example/x",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,hi",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/ok\r\nSet-Cookie: x=1",
    "/%0d%0aSet-Cookie:x=1",
    "/\t/evil.example",
    "\uff0f\uff0fevil.example",  # full-width solidus
    " //evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_open_redirect_tricks_fall_back_to_the_default(client, fake, target):
    response = sign_in(client, fake, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/", "/profile?tab=1#top", "/a/b%20c", "/files/x.txt"])
def test_same_origin_paths_are_kept(client, fake, target):
    assert sign_in(client, fake, next=target).headers["Location"] == target


def test_duplicated_next_is_400(client):
    assert client.get("/authorize?next=/a&next=/b").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        {"prompt": "sometimes"},
        {"prompt": "none consent"},
        {"login_hint": "a" * 400},
        {"login_hint": "bob\x00@example.com"},
        {"scope": "https://www.googleapis.com/auth/gmail.send"},
    ],
)
def test_malformed_authorize_parameters_are_400(client, query):
    response = client.get("/authorize", query_string=query)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_parameters_are_ignored(client):
    assert client.get("/authorize?utm_source=mail&foo=bar").status_code == 302


DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def test_extra_scope_from_the_allow_list_asks_incrementally(make_app, fake, stored):
    app = make_app(extra_scopes=[DRIVE])
    client = app.test_client()
    location = start(client, scope=DRIVE)
    q = query_of(location)
    assert q["scope"].split() == ["openid", "email", "profile", DRIVE]
    assert q["include_granted_scopes"] == "true"
    response = client.get(callback_path(fake.approve(location)))
    assert response.status_code == 302
    credentials, _ = stored[-1]
    assert DRIVE in credentials.granted_scopes


def test_partial_consent_succeeds_and_reports_the_granted_scopes(make_app, fake, stored):
    app = make_app(extra_scopes=[DRIVE])
    client = app.test_client()
    response = sign_in(client, fake, scope=DRIVE, granted_scopes=["openid", "email"])
    assert response.status_code == 302
    credentials, id_info = stored[-1]
    assert DRIVE not in credentials.granted_scopes
    assert DRIVE not in credentials.scopes  # only what was granted, so a refresh asks for no more
    assert id_info["email"] == "tester@example.com"
    with client.session_transaction() as sess:
        assert DRIVE not in sess["_google_flow_user"]["scopes"]


def test_hosted_domain_mismatch_is_refused(make_app, fake, stored):
    fake.add_account("outsider@gmail.example")
    app = make_app(hosted_domain="corp.example")
    response = sign_in(app.test_client(), fake, account="outsider@gmail.example")
    assert response.status_code == 403
    assert stored == []


def test_hosted_domain_match_is_accepted(make_app, fake, stored):
    fake.add_account("boss@corp.example", hosted_domain="corp.example")
    app = make_app(hosted_domain="corp.example")
    response = sign_in(app.test_client(), fake, account="boss@corp.example")
    assert response.status_code == 302
    assert stored[-1][1]["hd"] == "corp.example"


def config_without_redirect_uris(fake):
    config = fake.client_config()
    config["web"]["redirect_uris"] = []
    return config


def test_explicit_redirect_uri_wins(make_app, fake):
    fake.register_redirect_uri("https://app.example/auth/cb")
    app = make_app(redirect_uri="https://app.example/auth/cb")
    assert query_of(start(app.test_client()))["redirect_uri"] == "https://app.example/auth/cb"


def test_the_one_registered_redirect_uri_with_the_callback_path_is_used(make_app, fake):
    """Even when the request's host differs (behind a proxy without ProxyFix)."""
    config = config_without_redirect_uris(fake)
    config["web"]["redirect_uris"] = [
        "https://other.example/elsewhere",
        "https://app.example/oauth2callback",
    ]
    app = make_app(config={"GOOGLE_CLIENT_CONFIG": config})
    assert query_of(start(app.test_client()))["redirect_uri"] == (
        "https://app.example/oauth2callback"
    )


def test_several_registered_uris_on_the_callback_path_pick_the_requests_host(make_app, fake):
    uris = ["http://127.0.0.1:5000/oauth2callback", "https://app.example.com/oauth2callback"]
    app = make_app(config={"GOOGLE_CLIENT_CONFIG": fake.client_config(uris)})
    client = app.test_client()
    for base_url, expected in [
        ("http://127.0.0.1:5000", uris[0]),
        ("https://app.example.com", uris[1]),
        ("http://app.example.com", uris[1]),  # TLS ended at a proxy
        ("http://localhost", CALLBACK),  # registered too, by the fixture
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/oauth2callback"),  # url_for
    ]:
        response = client.get("/authorize", base_url=base_url)
        assert query_of(response.headers["Location"])["redirect_uri"] == expected, base_url


def test_redirect_uri_falls_back_to_url_for(make_app, fake):
    app = make_app(config={"GOOGLE_CLIENT_CONFIG": config_without_redirect_uris(fake)})
    client = app.test_client()
    response = client.get("/authorize", base_url="http://127.0.0.1:8000")
    location = response.headers["Location"]
    assert query_of(location)["redirect_uri"] == "http://127.0.0.1:8000/oauth2callback"


def test_plain_http_redirect_uri_on_a_public_host_is_refused(make_app, fake):
    app = make_app(config={"GOOGLE_CLIENT_CONFIG": config_without_redirect_uris(fake)})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/authorize", base_url="http://app.example")
    assert response.status_code == 500


def test_token_request_uses_the_stored_redirect_uri_whatever_the_callback_url(make_app, fake):
    """Behind a TLS-terminating proxy the callback reaches the app as plain http."""
    fake.register_redirect_uri("https://app.example/oauth2callback")
    app = make_app(redirect_uri="https://app.example/oauth2callback")
    client = app.test_client()
    response = client.get("/authorize", base_url="https://app.example")
    callback = fake.approve(response.headers["Location"])
    assert callback.startswith("https://app.example/oauth2callback?")
    response = client.get(callback_path(callback), base_url="http://app.example")
    assert response.status_code == 302


def test_callback_redirect_uri_is_what_was_sent(client, fake):
    assert query_of(start(client))["redirect_uri"] == CALLBACK
