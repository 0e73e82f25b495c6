"""``POST /revoke`` and ``POST /logout``: outcomes, local state, CSRF, session id."""

from __future__ import annotations

import pytest

from flask_google_flow import GoogleFlow, signals
from flask_google_flow.testing import OAuthError
from tests.sign_in_helpers import query_of, sign_in

from .conftest import ORIGIN, me, post, session_id


@pytest.fixture
def callbacks_app(make_app, clock):
    """An app keeping credentials in a dict through store/load/delete."""
    kept: dict = {}
    deleted: list = []
    google_flow = GoogleFlow(
        clock=clock,
        store=lambda credentials, id_info: kept.__setitem__(id_info["sub"], credentials),
        load=kept.get,
        delete=lambda sub: (deleted.append(sub), kept.pop(sub, None)),
    )
    app = make_app(extension=google_flow)
    app.extensions["kept"], app.extensions["deleted"] = kept, deleted
    return app


def test_revoke_revokes_at_google_and_clears_everything(client, fake):
    sign_in(client, fake)
    before = me(client)
    events = []

    def receiver(sender, **kwargs):
        events.append(kwargs)

    with signals.credentials_revoked.connected_to(receiver):
        response = post(client, "/revoke", data={"next": "/goodbye"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/goodbye?google_flow_revoke=revoked"
    assert response.headers["Cache-Control"] == "no-store"
    assert fake.request_counts["revoke"] == 1
    assert not fake.access_token_is_valid(before["token"])
    assert me(client)["user"] is None
    assert events == [{"sub": fake.default_account.sub, "revoked": True, "outcome": "revoked"}]


def test_revoke_sends_the_refresh_token(client, fake):
    sign_in(client, fake)
    refresh_token = me(client)["refresh_token"]
    post(client, "/revoke")
    with pytest.raises(OAuthError):  # already revoked: the fake refuses it again
        fake.revoke_token(refresh_token)


def test_revoke_calls_the_delete_callback(callbacks_app, fake):
    client = callbacks_app.test_client()
    sign_in(client, fake)
    assert callbacks_app.extensions["kept"]
    assert post(client, "/revoke").status_code == 302
    assert callbacks_app.extensions["deleted"] == [fake.default_account.sub]
    assert callbacks_app.extensions["kept"] == {}


def test_revoke_when_google_says_400_still_clears(client, fake):
    sign_in(client, fake)
    fake.revoke_token(me(client)["refresh_token"])  # the user removed access elsewhere
    response = post(client, "/revoke")
    assert response.headers["Location"] == "/?google_flow_revoke=invalid"
    assert me(client)["user"] is None


@pytest.mark.parametrize("kind", ["timeout", "server_error"])
def test_revoke_when_google_fails_still_clears(callbacks_app, fake, kind):
    client = callbacks_app.test_client()
    sign_in(client, fake)
    fake.fail("revoke", kind)
    response = post(client, "/revoke")
    assert response.status_code == 302
    assert query_of(response.headers["Location"]) == {"google_flow_revoke": "failed"}
    assert me(client)["user"] is None
    assert callbacks_app.extensions["kept"] == {}


def test_revoke_without_credentials(client, fake):
    response = post(client, "/revoke")
    assert response.headers["Location"] == "/?google_flow_revoke=none"
    assert fake.request_counts["revoke"] == 0


def test_revoke_status_param_can_be_disabled(make_app, fake):
    client = make_app(config={"GOOGLE_FLOW_REVOKE_STATUS_PARAM": ""}).test_client()
    sign_in(client, fake)
    assert post(client, "/revoke", query_string={"next": "/x?a=1"}).headers["Location"] == "/x?a=1"


def test_logout_rotates_the_session_and_revokes_nothing(client, fake):
    sign_in(client, fake)
    token = me(client)["token"]
    old_sid = session_id(client)
    events = []

    def receiver(sender, **kwargs):
        events.append(kwargs)

    with signals.logged_out.connected_to(receiver):
        response = post(client, "/logout", data={"next": "/bye"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/bye"
    assert fake.request_counts["revoke"] == 0
    assert fake.access_token_is_valid(token)
    assert session_id(client) != old_sid
    assert me(client)["user"] is None
    # the old session id is dead server-side too
    client.set_cookie("session", old_sid)
    assert me(client)["user"] is None
    assert events == [{"sub": fake.default_account.sub}]


def test_logout_keeps_app_managed_credentials(callbacks_app, fake):
    client = callbacks_app.test_client()
    sign_in(client, fake)
    post(client, "/logout")
    assert callbacks_app.extensions["deleted"] == []
    assert fake.default_account.sub in callbacks_app.extensions["kept"]


@pytest.mark.parametrize("path", ["/revoke", "/logout"])
@pytest.mark.parametrize(
    ("origin", "referer"),
    [
        (None, None),
        ("https://evil.example", None),
        ("null", None),
        ("http://localhost:8080", None),
        ("https://localhost", None),
        ("http://localhost.evil.example", None),
        (None, "https://evil.example/page"),
        (None, "not a url"),
        ("https://evil.example", ORIGIN + "/page"),
    ],
)
def test_cross_origin_posts_are_refused(client, fake, path, origin, referer):
    sign_in(client, fake)
    response = post(client, path, origin=origin, referer=referer)
    assert response.status_code == 403
    assert "did not come from this site" in response.get_data(as_text=True)
    assert me(client)["authorized"] is True
    assert fake.request_counts["revoke"] == 0


@pytest.mark.parametrize("path", ["/revoke", "/logout"])
def test_same_origin_referer_without_origin_is_accepted(client, fake, path):
    sign_in(client, fake)
    response = post(client, path, origin=None, referer=ORIGIN + "/settings?x=1")
    assert response.status_code == 302
    assert me(client)["user"] is None


@pytest.mark.parametrize("path", ["/revoke", "/logout"])
def test_get_is_not_allowed(client, fake, path):
    sign_in(client, fake)
    assert client.get(path).status_code == 405
    assert me(client)["authorized"] is True


@pytest.mark.parametrize("path", ["/revoke", "/logout"])
@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil"])
def test_next_is_validated(client, fake, path, target):
    sign_in(client, fake)
    response = post(client, path, data={"next": target})
    assert response.headers["Location"].split("?")[0] == "/"
