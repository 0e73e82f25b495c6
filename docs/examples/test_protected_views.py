# tests/test_protected_views.py: views behind @google_flow.required and authorized_session().
import calling_apis
import pytest
from incremental import DRIVE, create_app


@pytest.fixture
def app(fake_google):
    return create_app(
        {
            "SECRET_KEY": "test",
            "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
        }
    )


def test_anonymous_users_are_sent_to_sign_in(app):
    response = app.test_client().get("/files")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/authorize?next=/files")


def test_files_with_the_drive_scope(app, google_login):
    client = app.test_client()
    google_login(client, scopes=["openid", "email", "profile", DRIVE])
    assert client.get("/files").get_data(as_text=True) == "your files..."


def test_declining_drive_shows_the_403_page(app, google_login):
    client = app.test_client()
    # Asked for DRIVE on the way to /files, the user grants only the basic scopes.
    google_login(client, scopes=["openid", "email", "profile"], extra_scopes=[DRIVE], next="/files")
    assert client.get("/files").status_code == 403


def test_sign_out(app, google_login):
    client = app.test_client()
    google_login(client, scopes=["openid", "email", "profile", DRIVE])
    google_login.logout(client)  # POST /logout from the app's own origin
    assert client.get("/files").status_code == 302


@pytest.mark.fake_google(rotate_refresh_tokens=True)  # options for FakeGoogle(...)
def test_expired_tokens_are_refreshed(fake_google, fake_google_clock, google_login):
    config = {"SECRET_KEY": "test", "GOOGLE_CLIENT_CONFIG": fake_google.client_config()}
    app = calling_apis.create_app(config, clock=fake_google_clock)  # one clock for both
    client = app.test_client()
    google_login(client)
    for _ in range(2):  # the second refresh needs the rotated refresh token the first saved
        fake_google_clock.advance(3600)  # the access token expires, no sleeping
        assert client.get("/me").get_json()["email"] == "tester@example.com"
    assert fake_google.request_counts["token"] == 3  # the sign-in and two refreshes
