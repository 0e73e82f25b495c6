"""init_app, blueprints and prefixes, several apps, session backends, real HTTP."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
import redis
from flask import Blueprint, Flask, url_for

from flask_google_flow import GoogleFlow
from flask_google_flow.exceptions import ClientSecretsError
from flask_google_flow.testing import FakeGoogle
from tests.conftest import require
from tests.sign_in_helpers import callback_path, query_of, sign_in, start


def test_init_app_twice_is_refused(make_app):
    app = make_app()
    with pytest.raises(RuntimeError, match="already registered"):
        app.extensions["google_flow"].extension.init_app(app)


def test_missing_client_secrets_is_a_clear_error(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))
    with pytest.raises(RuntimeError, match="GOOGLE_CLIENT_SECRETS_FILE"):
        GoogleFlow(app)


def test_malformed_client_secrets_file_names_the_file(tmp_path):
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({"other": {"client_id": "x"}}))
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["GOOGLE_CLIENT_SECRETS_FILE"] = str(path)
    with pytest.raises(ClientSecretsError, match=r"client_secret\.json"):
        GoogleFlow(app)


def test_client_secrets_file_relative_to_the_app_root(tmp_path, fake, monkeypatch):
    (tmp_path / "client_secret.json").write_text(json.dumps(fake.client_config()))
    monkeypatch.chdir("/")
    app = Flask(__name__, root_path=str(tmp_path), instance_path=str(tmp_path / "i"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_SECRETS_FILE="client_secret.json")
    GoogleFlow(app)
    assert app.extensions["google_flow"].client_id == fake.default_client.client_id


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="pending_tll"):
        GoogleFlow(pending_tll=5)


def test_url_prefix(make_app, fake, stored):
    fake.register_redirect_uri("http://localhost/auth/oauth2callback")
    app = make_app(url_prefix="/auth")
    client = app.test_client()
    location = start(client, "/auth/authorize")
    assert query_of(location)["redirect_uri"] == "http://localhost/auth/oauth2callback"
    assert client.get(callback_path(fake.approve(location))).status_code == 302
    with app.test_request_context():
        assert url_for("google_flow.authorize") == "/auth/authorize"
        assert url_for("google_flow.oauth2callback") == "/auth/oauth2callback"
    assert len(stored) == 1


def test_nested_inside_the_apps_own_blueprint(make_app, fake, clock, stored):
    fake.register_redirect_uri("http://localhost/account/google/oauth2callback")
    extension = GoogleFlow(clock=clock, register_blueprint=False, store=lambda c, i: None)
    app = make_app(extension=extension)
    account = Blueprint("account", __name__, url_prefix="/account")
    account.register_blueprint(extension.make_blueprint(), url_prefix="/google")
    app.register_blueprint(account)
    client = app.test_client()
    with app.test_request_context():
        assert url_for("account.google_flow.authorize") == "/account/google/authorize"
    response = sign_in(client, fake, path="/account/google/authorize")
    assert response.status_code == 302
    assert app.extensions["google_flow"].endpoint_prefix == "account.google_flow"


def test_one_extension_object_serves_two_apps(fake, clock, tmp_path):
    extension = GoogleFlow(clock=clock)
    seen = []
    extension.store(lambda credentials, id_info: seen.append(id_info["aud"]))
    other = fake.add_client("other-client.apps.googleusercontent.com", "other-secret")
    fake.register_redirect_uri("http://localhost/oauth2callback", client_id=other.client_id)
    apps = []
    for i, config in enumerate(
        [fake.client_config(), fake.client_config(client_id=other.client_id)]
    ):
        app = Flask(f"app{i}", instance_path=str(tmp_path / f"i{i}"))
        app.config.update(SECRET_KEY=f"k{i}", GOOGLE_CLIENT_CONFIG=config)
        extension.init_app(app)
        apps.append(app)
    for app in apps:
        assert sign_in(app.test_client(), fake).status_code == 302
    assert seen == [fake.default_client.client_id, other.client_id]
    assert apps[0].extensions["google_flow"] is not apps[1].extensions["google_flow"]


def test_embedded_filesystem_session_is_installed_and_announced(make_app, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="flask_google_flow")
    app = make_app()
    from flask_session.cachelib import CacheLibSessionInterface

    assert isinstance(app.session_interface.wrapped, CacheLibSessionInterface)
    assert "embedded filesystem session store" in caplog.text
    assert (tmp_path / "instance" / "google_flow_sessions").is_dir()


def test_session_cookie_holds_only_an_id(client, fake):
    sign_in(client, fake)
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert "." not in cookie.value and len(cookie.value) < 64


def test_session_id_is_rotated_after_sign_in(client, fake):
    location = start(client)
    before = client.get_cookie("session").value
    assert client.get(callback_path(fake.approve(location))).status_code == 302
    after = client.get_cookie("session").value
    assert before != after
    assert client.get("/").get_data(as_text=True) == "home tester@example.com"


def test_two_tabs_interleaved_both_complete(client, fake, stored):
    tab1, tab2 = start(client, next="/one"), start(client, next="/two")
    response2 = client.get(callback_path(fake.approve(tab2)))
    response1 = client.get(callback_path(fake.approve(tab1)))
    assert response2.headers["Location"] == "/two"
    assert response1.headers["Location"] == "/one"
    assert len(stored) == 2


def test_pending_flows_per_session_are_capped(make_app, fake):
    app = make_app(max_pending=3)
    client = app.test_client()
    locations = [start(client) for _ in range(4)]
    oldest = client.get(callback_path(fake.approve(locations[0])))
    assert oldest.status_code == 400
    newest = client.get(callback_path(fake.approve(locations[-1])))
    assert newest.status_code == 302


@pytest.fixture
def redis_client():
    client = redis.Redis(host="127.0.0.1", port=6379, db=14, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        require(False, "no Redis at 127.0.0.1:6379", "start redis-server to run this test")
    yield client
    client.flushdb()


@pytest.mark.integration
def test_redis_session_backend_is_kept_and_used(make_app, fake, redis_client, stored):
    prefix = f"t-{uuid.uuid4().hex[:8]}:"
    app = make_app(
        config={
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": redis_client,
            "SESSION_KEY_PREFIX": prefix,
        }
    )
    from flask_session.redis import RedisSessionInterface

    assert isinstance(app.session_interface.wrapped, RedisSessionInterface)
    client = app.test_client()
    location = start(client)
    assert any(k.startswith(b"google-flow:pending:") for k in redis_client.keys("*"))
    callback = callback_path(fake.approve(location))
    assert client.get(callback).status_code == 302
    assert client.get(callback).status_code == 400  # replay
    assert not any(k.startswith(b"google-flow:pending:") for k in redis_client.keys("*"))
    assert redis_client.keys(prefix + "*")
    assert len(stored) == 1


@pytest.mark.integration
def test_sign_in_over_real_http_with_discovery(tmp_path):
    """The app talks to the fake Google over real HTTP, configured only by discovery."""
    fake = FakeGoogle()
    with fake.serve() as base_url:
        app = Flask(__name__, instance_path=str(tmp_path))
        app.config.update(
            SECRET_KEY="k",
            GOOGLE_CLIENT_CONFIG=fake.client_config(["http://localhost/oauth2callback"]),
            GOOGLE_FLOW_DISCOVERY_URL=fake.discovery_url,
            GOOGLE_FLOW_CA_BUNDLE=fake.ca_bundle,
        )
        seen = []
        GoogleFlow(app, store=lambda credentials, id_info: seen.append(id_info))
        client = app.test_client()
        location = start(client)
        assert location.startswith(fake.front_channel_url + "/")
        response = client.get(callback_path(fake.approve(location)))
        assert response.status_code == 302
        assert seen[0]["iss"] == base_url
        assert fake.request_counts["discovery"] == 1
        assert fake.request_counts["token"] == 1
