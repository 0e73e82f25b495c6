"""POST /gsi: the happy paths, the markup, and what a GIS sign-in leaves behind."""

from __future__ import annotations

import re

from flask_google_flow import signals
from tests.gsi.conftest import page_nonce, post_gsi


def test_button_page_has_googles_html_api(client, fake):
    html = client.get("/page").get_data(as_text=True)
    assert html.count('id="g_id_onload"') == 1
    assert f'data-client_id="{fake.default_client.client_id}"' in html
    assert 'data-login_uri="http://localhost/gsi"' in html
    assert 'data-auto_prompt="true"' in html
    assert 'data-use_fedcm_for_prompt="true"' in html
    assert 'class="g_id_signin"' in html
    assert html.count('<script src="https://accounts.google.com/gsi/client" async defer') == 1


def test_each_page_gets_a_new_nonce(client):
    assert page_nonce(client) != page_nonce(client)


def test_sign_in_through_the_button(client, fake, stored):
    nonce = page_nonce(client)
    response = post_gsi(client, fake.gsi_credential("alice@example.com", nonce=nonce))
    assert response.status_code == 302
    assert response.headers["Location"] == "/after"
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/").get_data(as_text=True) == "home alice@example.com"
    assert len(stored) == 1
    credentials, id_info = stored[0]
    assert credentials is None
    assert id_info["email"] == "alice@example.com"
    assert id_info["aud"] == fake.default_client.client_id


def test_next_defaults_to_the_page_rendered(client, fake):
    nonce = page_nonce(client, "/button?x=1")
    response = post_gsi(client, fake.gsi_credential(nonce=nonce))
    assert response.headers["Location"] == "/button?x=1"


def test_open_redirect_next_is_refused_at_render_time(app, fake):
    from flask_google_flow.ext.gsi import issue_nonce

    client = app.test_client()
    with client.session_transaction() as sess:
        nonce = issue_nonce(app, sess, "https://evil.example.com/")
    response = post_gsi(client, fake.gsi_credential(nonce=nonce))
    assert response.headers["Location"] == "/"


def test_session_id_is_rotated(client, fake):
    nonce = page_nonce(client)
    before = client.get_cookie("session").value
    post_gsi(client, fake.gsi_credential(nonce=nonce))
    assert client.get_cookie("session").value != before


def test_login_succeeded_signal_has_no_credentials(app, client, fake):
    seen = []

    def listener(sender, **kwargs):
        seen.append(kwargs)

    with signals.login_succeeded.connected_to(listener, app):
        post_gsi(client, fake.gsi_credential(nonce=page_nonce(client)))
    assert len(seen) == 1
    assert seen[0]["credentials"] is None
    assert seen[0]["id_info"]["sub"] == fake.default_account.sub


def test_accessors_after_a_gsi_sign_in(app, fake):
    client = app.test_client()
    from flask_google_flow import GoogleFlow

    extension = app.extensions["google_flow"].extension
    assert isinstance(extension, GoogleFlow)

    @app.route("/who")
    def who():
        return {
            "user": extension.user["email"],
            "credentials": extension.credentials is None,
            "authorized": extension.is_authorized,
        }

    post_gsi(client, fake.gsi_credential("bob@example.com", nonce=page_nonce(client)))

    assert client.get("/who").get_json() == {
        "user": "bob@example.com",
        "credentials": True,
        "authorized": False,
    }


def test_required_sends_a_gsi_user_through_the_redirect_flow_with_login_hint(make_app, fake):
    from flask_google_flow import GoogleFlow

    drive = "https://www.googleapis.com/auth/drive.readonly"
    extension = GoogleFlow(clock=fake.clock)
    app = make_app(extension=extension)

    @app.route("/drive")
    @extension.required(scopes=[drive])
    def drive_page():
        return "drive ok"

    client = app.test_client()
    account = fake.add_account("carol@example.com")
    post_gsi(client, fake.gsi_credential(account, nonce=page_nonce(client)))
    response = client.get("/drive")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/authorize?")
    assert f"login_hint={account.sub}" in location
    assert "scope=" in location and "drive.readonly" in location
    assert "prompt=consent" not in location
    # Google (the fake) picks the hinted account: no chooser, straight to consent.
    google = client.get(location).headers["Location"]
    assert f"login_hint={account.sub}" in google
    callback = fake.approve(google)
    assert client.get(callback.split("localhost", 1)[1]).status_code == 302
    assert client.get("/drive").get_data(as_text=True) == "drive ok"
    assert client.get("/").get_data(as_text=True) == "home carol@example.com"


def test_redirect_flow_credentials_survive_a_gsi_sign_in_of_the_same_user(
    make_app, fake, google_login_like
):
    from tests.sign_in_helpers import sign_in

    app = make_app(extension=google_login_like)
    client = app.test_client()

    @app.route("/creds")
    def creds():
        return {"has": google_login_like.credentials is not None}

    assert sign_in(client, fake).status_code == 302

    assert client.get("/creds").get_json() == {"has": True}
    post_gsi(client, fake.gsi_credential(nonce=page_nonce(client)))
    assert client.get("/creds").get_json() == {"has": True}
    other = fake.add_account("mallory@example.com")
    post_gsi(client, fake.gsi_credential(other, nonce=page_nonce(client)))
    assert client.get("/creds").get_json() == {"has": False}


def test_plugin_signs_a_test_client_in_through_gsi(app, google_login):
    client = app.test_client()
    response = google_login.gsi(client, account="dave@example.com", next="/after")
    assert response.status_code == 302
    assert response.headers["Location"] == "/after"
    assert client.get("/").get_data(as_text=True) == "home dave@example.com"


def test_markup_escapes_and_rejects_unknown_options(app):
    import pytest
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string(
            "{{ google_sign_in_button(text='signup_with', width=300, ux_mode='redirect') }}"
        )
        assert 'data-text="signup_with"' in html
        assert 'data-width="300"' in html
        assert 'data-ux_mode="redirect"' in html
        assert 'data-auto_prompt="false"' in html
    with app.test_request_context("/"):
        html = render_template_string("{{ google_sign_in_button(locale='\"><x') }}")
        assert '"><x' not in html and "&#34;&gt;&lt;x" in html
    with app.test_request_context("/"), pytest.raises(TypeError, match="bogus"):
        render_template_string("{{ google_sign_in_button(bogus=1) }}")
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="before"):
        render_template_string("{{ google_sign_in_button() }}{{ google_one_tap() }}")


def test_csp_nonce_on_the_script_tag(make_app):
    app = make_app(config={"GOOGLE_FLOW_GSI_CSP_NONCE": lambda: "csp123"})
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string("{{ google_one_tap() }}")
    assert re.search(r'<script src="[^"]+" async defer nonce="csp123">', html)
    with app.test_request_context("/"):
        html = render_template_string("{{ google_one_tap(csp_nonce='given') }}")
    assert 'nonce="given"' in html


def test_script_url_is_configurable_and_checked(make_app):
    import pytest

    app = make_app(config={"GOOGLE_FLOW_GSI_SCRIPT_URL": "http://127.0.0.1:9/gsi/client"})
    from flask import render_template_string

    with app.test_request_context("/"):
        assert 'src="http://127.0.0.1:9/gsi/client"' in render_template_string(
            "{{ google_one_tap() }}"
        )
    with pytest.raises(ValueError, match="GOOGLE_FLOW_GSI_SCRIPT_URL"):
        make_app(config={"GOOGLE_FLOW_GSI_SCRIPT_URL": "http://cdn.example.com/client"})


def test_fedcm_default_can_be_turned_off_and_hd_is_passed(make_app):
    from flask import render_template_string

    app = make_app(config={"GOOGLE_FLOW_GSI_USE_FEDCM": "false"}, hosted_domain="corp.example")
    with app.test_request_context("/"):
        html = render_template_string("{{ google_one_tap(auto_select=True, context='use') }}")
    assert 'data-use_fedcm_for_prompt="false"' in html
    assert 'data-hd="corp.example"' in html
    assert 'data-auto_select="true"' in html and 'data-context="use"' in html


def test_csp_nonce_hook_must_be_callable(make_app):
    import pytest

    with pytest.raises(ValueError, match="GOOGLE_FLOW_GSI_CSP_NONCE"):
        make_app(config={"GOOGLE_FLOW_GSI_CSP_NONCE": "abc"})


def test_python_api_and_url_prefix(make_app, fake):
    app = make_app(url_prefix="/auth")
    extension = app.extensions["google_flow"].extension
    with app.test_request_context("/somewhere"):
        html = str(extension.sign_in_button(one_tap=True))
    assert 'data-login_uri="http://localhost/auth/gsi"' in html
    assert 'data-auto_prompt="true"' in html
    client = app.test_client()
    nonce = page_nonce(client)
    client.set_cookie("g_csrf_token", "t")
    response = client.post(
        "/auth/gsi",
        data={"credential": fake.gsi_credential(nonce=nonce), "g_csrf_token": "t"},
        headers={"Origin": "http://localhost"},
    )
    assert response.status_code == 302
