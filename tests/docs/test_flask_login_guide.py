"""``docs/examples/flask_login_app.py`` (the Flask-Login guide), against the in-process fake."""

from __future__ import annotations

import pytest

from tests.conftest import require

from .conftest import load_example, path_of, sign_in

try:
    import flask_login
except ImportError:  # pragma: no cover - in the test extra
    flask_login = None


@pytest.fixture
def module():
    require(
        flask_login is not None,
        "Flask-Login is not installed",
        "python -m pip install -e '.[test]'",
    )
    return load_example("flask_login_app")


@pytest.fixture
def app(module, fake, tmp_path):
    return module.create_app(
        {
            "SECRET_KEY": "test",
            "GOOGLE_CLIENT_CONFIG": fake.client_config(["http://localhost/oauth2callback"]),
            "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        }
    )


def test_login_required_sends_anonymous_users_through_google(app, fake):
    client = app.test_client()
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/authorize?next=%2Faccount"
    # ...and after Google they are a Flask-Login user, back on the page they wanted.
    callback = client.get(response.headers["Location"])
    assert callback.status_code == 302
    back = client.get(path_of(fake.approve(callback.headers["Location"])))
    assert back.headers["Location"] == "/account"
    assert client.get("/account").get_json() == {"email": fake.default_account.email}


def test_the_signal_logs_the_user_in_with_flask_login(app, fake, module):
    client = app.test_client()
    sign_in(client, fake)
    with client.session_transaction() as session:
        assert session["_user_id"] == fake.default_account.sub
    assert module.USERS[fake.default_account.sub].email == fake.default_account.email
    assert "Hello" in client.get("/").get_data(as_text=True)


def test_google_flow_required_asks_for_the_missing_scope(app, fake, module):
    client = app.test_client()
    sign_in(client, fake)
    response = client.get("/files")  # logged in with Flask-Login, but no Drive scope yet
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/authorize?next=/files&scope=")
    sign_in(client, fake, start=response.headers["Location"])
    assert client.get("/files").get_data(as_text=True) == "your files..."


def test_logout_logs_out_of_both(app, fake):
    client = app.test_client()
    sign_in(client, fake)
    response = client.post("/logout", headers={"Origin": "http://localhost"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session
        assert "_google_flow_user" not in session
    assert client.get("/account").status_code == 302
    assert "Log in with Google" in client.get("/").get_data(as_text=True)


def test_logout_also_clears_a_remember_me_cookie(app, fake, module):
    @app.route("/remember")
    def remember():
        flask_login.login_user(flask_login.current_user._get_current_object(), remember=True)
        return "ok"

    client = app.test_client()
    sign_in(client, fake)
    client.get("/remember")
    assert client.get_cookie("remember_token") is not None
    client.post("/logout", headers={"Origin": "http://localhost"})
    assert client.get_cookie("remember_token") is None
    assert client.get("/account").status_code == 302


def test_revoke_logs_out_too(app, fake):
    client = app.test_client()
    sign_in(client, fake)
    client.post("/revoke", headers={"Origin": "http://localhost"})
    assert client.get("/account").status_code == 302
