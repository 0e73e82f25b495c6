"""The extension's own error pages carry a way back: home, and "Sign in again" where it helps."""

from __future__ import annotations

import re

from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.errors import CrossOriginRequest, SessionUnavailable, UnknownStateError
from tests.sign_in_helpers import CALLBACK, build_app, callback_path, start


def links(body: str) -> dict[str, str]:
    """The page's links by id."""
    return {id_: href for href, id_ in re.findall(r"<a href='([^']*)' id=([\w-]+)", body)}


def test_cancelled_sign_in_offers_sign_in_again_to_the_original_next(client, fake):
    response = client.get(callback_path(fake.deny(start(client, next="/reports?year=2026"))))
    assert response.status_code == 403
    found = links(response.get_data(as_text=True))
    assert found["home"] == "/"
    assert found["sign-in-again"] == "/authorize?next=/reports?year%3D2026"
    # The link works: it starts a new sign-in that comes back to the same page.
    again = client.get(found["sign-in-again"].replace("&amp;", "&"))
    assert again.status_code == 302


def test_provider_failure_page_offers_sign_in_again(client, fake):
    callback = callback_path(fake.approve(start(client, next="/files")))
    fake.fail_token("server_error")
    response = client.get(callback)
    assert response.status_code == 502
    assert links(response.get_data(as_text=True))["sign-in-again"] == "/authorize?next=/files"


def test_expired_page_offers_a_fresh_sign_in_and_home(client):
    response = client.get("/oauth2callback?state=nope&code=x")
    found = links(response.get_data(as_text=True))
    assert found == {"sign-in-again": "/authorize", "home": "/"}


def test_links_follow_the_mount_point(fake, clock, tmp_path):
    app, _ = build_app(
        fake,
        clock,
        tmp_path,
        url_prefix="/auth",
        client_config=fake.client_config(["http://localhost/app/auth/oauth2callback"]),
    )
    client = app.test_client()
    response = client.get("/auth/oauth2callback?state=nope", base_url="http://localhost/app/")
    found = links(response.get_data(as_text=True))
    assert found == {"sign-in-again": "/app/auth/authorize", "home": "/app/"}


def test_no_sign_in_link_where_it_does_not_help():
    for error in (CrossOriginRequest(), SessionUnavailable()):
        body = error.get_body({"SCRIPT_NAME": ""})
        assert "sign-in-again" not in body and "id=home" in body


def test_an_error_raised_by_an_app_outside_the_callback_has_a_home_link():
    body = UnknownStateError().get_body()
    assert links(body) == {"home": "/"}


def test_the_link_is_escaped(fake, clock, tmp_path):
    error = UnknownStateError()
    error.sign_in_url = "/authorize?next='><script>"
    body = error.get_body()
    assert "<script>" not in body and "&#39;&gt;&lt;script&gt;" in body


def test_an_app_handler_still_replaces_the_page(fake, clock, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]))
    GoogleFlow(app)

    @app.errorhandler(UnknownStateError)
    def mine(error):
        return f"mine {error.sign_in_url}", 400

    assert app.test_client().get("/oauth2callback?state=x").get_data(as_text=True) == (
        "mine /authorize"
    )
