# tests/test_quickstart_app.py: the fixtures come with flask-google-flow (a pytest plugin).
import pytest
from quickstart_app import create_app


@pytest.fixture
def app(fake_google):
    return create_app(
        {
            "TESTING": True,
            "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),  # the app talks to the fake
        }
    )


def test_anonymous_user_sees_the_sign_in_link(app):
    assert "Sign in with Google" in app.test_client().get("/").get_data(as_text=True)


def test_signed_in_user_is_greeted(app, google_login):
    client = app.test_client()
    response = google_login(client, account="alice@example.com", next="/")
    assert response.headers["Location"] == "/"
    assert client.get("/").get_data(as_text=True).startswith("Hello Alice (")


def test_cancel_on_the_consent_screen_is_a_friendly_403(app, google_login):
    response = google_login.deny(app.test_client())
    assert response.status_code == 403
    assert "You cancelled signing in" in response.get_data(as_text=True)


def test_google_down_is_a_502_not_a_crash(app, google_login, fake_google):
    fake_google.fail_token("server_error")  # the next token request answers 503
    response = google_login(app.test_client(), check=False)
    assert response.status_code == 502


def test_a_forged_id_token_is_refused(app, google_login, fake_google):
    fake_google.tamper_id_token("wrong_aud")
    response = google_login(app.test_client(), check=False)
    assert response.status_code == 401
