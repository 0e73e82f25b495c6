"""Never replace an app's session interface silently; never keep tokens in a cookie session."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionInterface

from flask_google_flow import GoogleFlow
from tests.sign_in_helpers import CALLBACK, sign_in


def _app(fake, tmp_path, **config) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]))
    app.config.update(config)
    return app


def test_session_type_null_is_refused_naming_the_setting(fake, tmp_path):
    app = _app(fake, tmp_path, SESSION_TYPE="null")
    with pytest.raises(RuntimeError, match=r"SESSION_TYPE = .null.*cookie"):
        GoogleFlow(app)


def test_an_explicit_cookie_session_interface_is_refused(fake, tmp_path):
    app = _app(fake, tmp_path)
    app.session_interface = SecureCookieSessionInterface()
    with pytest.raises(RuntimeError, match=r"cookie-based session.*SecureCookieSessionInterface"):
        GoogleFlow(app)


def test_a_cookie_session_subclass_is_refused(fake, tmp_path):
    class Signed(SecureCookieSessionInterface):
        salt = "mine"

    app = _app(fake, tmp_path)
    app.session_interface = Signed()
    with pytest.raises(RuntimeError, match="cookie-based session"):
        GoogleFlow(app)


def test_flasks_untouched_default_gets_the_embedded_store(fake, tmp_path):
    from flask_session.cachelib import CacheLibSessionInterface

    app = _app(fake, tmp_path)
    GoogleFlow(app)
    assert isinstance(app.session_interface.wrapped, CacheLibSessionInterface)


def test_the_apps_own_server_side_interface_is_kept_with_a_log_line(fake, tmp_path, caplog):
    from cachelib import SimpleCache
    from flask_session.cachelib import CacheLibSessionInterface

    class Mine(SessionInterface):
        """An app's own server-side interface (here: Flask-Session's, behind a wrapper)."""

        def __init__(self, app):
            self.inner = CacheLibSessionInterface(app, client=SimpleCache())

        def open_session(self, app, request):
            return self.inner.open_session(app, request)

        def save_session(self, app, session, response):
            return self.inner.save_session(app, session, response)

    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    app = _app(fake, tmp_path)
    mine = Mine(app)
    app.session_interface = mine
    GoogleFlow(app)
    assert app.session_interface.wrapped is mine
    assert "keeping the app's own session interface Mine" in caplog.text
    assert sign_in(app.test_client(), fake).status_code == 302


def test_a_flask_session_interface_set_up_by_the_app_is_used(fake, tmp_path):
    from cachelib import SimpleCache
    from flask_session import Session

    app = _app(fake, tmp_path, SESSION_TYPE="cachelib", SESSION_CACHELIB=SimpleCache())
    Session(app)
    interface = app.session_interface
    GoogleFlow(app)
    assert app.session_interface.wrapped is interface


# -- encryption at rest of the tokens kept in the session -------------------------------


def _key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _kept(app, client):
    """The credentials entry of the client's session, as the backend holds it."""
    with client.session_transaction() as sess:
        return sess.get("_google_flow_credentials")


def test_tokens_are_encrypted_at_rest_with_a_key(make_app, fake, stored, tmp_path):
    app = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": _key()}, stored=stored)
    client = app.test_client()
    assert sign_in(client, fake).status_code == 302
    kept = _kept(app, client)
    assert isinstance(kept, str) and kept.startswith("gAAAA")  # a Fernet token
    [(credentials, _)] = stored
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "instance").rglob("*") if p.is_file())
    assert credentials.token.encode() not in on_disk
    assert credentials.refresh_token.encode() not in on_disk
    assert client.get("/credentials").get_data(as_text=True) == "yes"


def test_without_a_key_tokens_are_plain_session_data(make_app, fake, stored, tmp_path):
    """The control of the test above: the same check finds the plain token on disk."""
    app = make_app(stored=stored)
    client = app.test_client()
    sign_in(client, fake)
    assert isinstance(_kept(app, client), dict)
    [(credentials, _)] = stored
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "instance").rglob("*") if p.is_file())
    assert credentials.token.encode() in on_disk


def test_a_wrong_key_means_no_credentials_and_a_warning_not_a_500(make_app, fake, caplog, tmp_path):
    old = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": _key()})
    client = old.test_client()
    sign_in(client, fake)
    cookie = client.get_cookie("session").value
    # The same session store, read by an app with another key.
    new = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": _key()})
    other = new.test_client()
    other.set_cookie("session", cookie)
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    response = other.get("/credentials")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "no"
    assert "cannot be decrypted" in caplog.text


def test_encrypted_tokens_without_any_key_mean_no_credentials(make_app, fake, caplog):
    old = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": _key()})
    client = old.test_client()
    sign_in(client, fake)
    cookie = client.get_cookie("session").value
    plain = make_app().test_client()
    plain.set_cookie("session", cookie)
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    assert plain.get("/credentials").get_data(as_text=True) == "no"
    assert "cannot be decrypted" in caplog.text


def test_key_rotation_new_key_first_old_key_still_decrypts(make_app, fake):
    old_key, new_key = _key(), _key()
    old = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": old_key})
    client = old.test_client()
    sign_in(client, fake)
    cookie = client.get_cookie("session").value
    rotated = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": f"{new_key},{old_key}"})
    other = rotated.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/credentials").get_data(as_text=True) == "yes"
    # A new sign-in under the rotated keys is readable with the new key alone.
    sign_in(other, fake)
    cookie = other.get_cookie("session").value
    new_only = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": [new_key]}).test_client()
    new_only.set_cookie("session", cookie)
    assert new_only.get("/credentials").get_data(as_text=True) == "yes"


def test_plain_tokens_from_before_encryption_are_still_read(make_app, fake):
    plain = make_app()
    client = plain.test_client()
    sign_in(client, fake)
    cookie = client.get_cookie("session").value
    encrypted = make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": _key()}).test_client()
    encrypted.set_cookie("session", cookie)
    assert encrypted.get("/credentials").get_data(as_text=True) == "yes"


@pytest.mark.parametrize("key", ["not-a-key", "c2hvcnQ="])
def test_a_malformed_key_fails_at_init_app_naming_the_setting(make_app, key):
    with pytest.raises(ValueError, match="GOOGLE_FLOW_ENCRYPTION_KEY") as info:
        make_app(config={"GOOGLE_FLOW_ENCRYPTION_KEY": key})
    assert key not in str(info.value)


def test_an_interface_set_on_a_flask_subclass_is_not_replaced(fake, tmp_path, caplog):
    from cachelib import SimpleCache
    from flask_session.cachelib import CacheLibSessionInterface

    class Mine(SessionInterface):
        inner = None

        def open_session(self, app, request):
            return self.inner.open_session(app, request)

        def save_session(self, app, session, response):
            return self.inner.save_session(app, session, response)

    class MyFlask(Flask):
        session_interface = Mine()

    app = MyFlask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]))
    Mine.inner = CacheLibSessionInterface(app, client=SimpleCache())
    caplog.set_level(logging.WARNING, logger="flask_google_flow")
    GoogleFlow(app)
    assert isinstance(app.session_interface.wrapped, Mine)
    assert "keeping the app's own session interface Mine" in caplog.text


def test_tokens_refreshed_into_the_session_stay_encrypted():
    """``keep_local`` (used after a refresh) writes the same encrypted form as ``save``."""
    import datetime

    from google.oauth2.credentials import Credentials

    from flask_google_flow.ext.storage import SessionCredentialStore, TokenCipher

    def rebuild(data):
        return Credentials(data["token"], refresh_token=data["refresh_token"])

    store = SessionCredentialStore(rebuild, cipher=TokenCipher([_key()]))
    session: dict = {}
    credentials = Credentials(
        "access-1", refresh_token="refresh-1", expiry=datetime.datetime(2030, 1, 1)
    )
    store.keep_local(session, credentials)
    kept = session["_google_flow_credentials"]
    assert isinstance(kept, str) and "access-1" not in kept and "refresh-1" not in kept
    loaded = store.load(session, None)
    assert (loaded.token, loaded.refresh_token) == ("access-1", "refresh-1")
