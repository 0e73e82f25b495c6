"""Configuration of the example app from the environment."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from example_app import create_app, settings


def test_google_variables_map_to_config_keys_of_the_same_name():
    app = Flask(__name__)
    config = {"web": {"client_id": "x"}}
    settings.load_environment(
        app,
        {
            "GOOGLE_CLIENT_CONFIG": json.dumps(config),
            "GOOGLE_SCOPES": '["openid", "email"]',
            "GOOGLE_FLOW_PENDING_TTL": "300",
            "GOOGLE_FLOW_HOSTED_DOMAIN": "corp.example",
            "GOOGLE_FLOW_PROMPT": "",
            "SECRET_KEY": "s",
            "EXAMPLE_DATABASE": "/tmp/x.sqlite3",
            "UNRELATED": "nope",
        },
    )
    assert app.config["GOOGLE_CLIENT_CONFIG"] == json.dumps(config)  # parsed by the extension
    assert app.config["GOOGLE_SCOPES"] == ["openid", "email"]
    assert app.config["GOOGLE_FLOW_PENDING_TTL"] == "300"
    assert app.config["GOOGLE_FLOW_HOSTED_DOMAIN"] == "corp.example"
    assert "GOOGLE_FLOW_PROMPT" not in app.config
    assert app.config["SECRET_KEY"] == "s"
    assert app.config["EXAMPLE_DATABASE"] == "/tmp/x.sqlite3"
    assert "UNRELATED" not in app.config


def test_a_broken_json_list_names_the_variable():
    with pytest.raises(ValueError, match="GOOGLE_SCOPES"):
        settings.load_environment(Flask(__name__), {"GOOGLE_SCOPES": '["openid",'})


def test_client_config_json_from_the_environment_is_used(monkeypatch, fake_google, tmp_path):
    monkeypatch.setenv("GOOGLE_CLIENT_CONFIG", json.dumps(fake_google.client_config()))
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("EXAMPLE_DATABASE", str(tmp_path / "env.sqlite3"))
    app = create_app(instance_path=str(tmp_path / "instance"))
    assert app.config["EXAMPLE_DEV_MODE"] is False
    assert app.secret_key == "from-env"
    assert (tmp_path / "env.sqlite3").exists()


def test_real_client_secrets_require_a_secret_key(monkeypatch, fake_google, tmp_path):
    monkeypatch.setenv("GOOGLE_CLIENT_CONFIG", json.dumps(fake_google.client_config()))
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(instance_path=str(tmp_path / "instance"))


def test_redis_url_selects_the_redis_session_backend(fake_google, tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "k",
            "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
            "REDIS_URL": "redis://127.0.0.1:6399/3",
        },
        instance_path=str(tmp_path / "instance"),
    )
    assert app.config["SESSION_TYPE"] == "redis"
    kwargs = app.config["SESSION_REDIS"].connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6399, 3)


def test_database_defaults_to_the_instance_folder(fake_google, tmp_path):
    app = create_app(
        {"SECRET_KEY": "k", "GOOGLE_CLIENT_CONFIG": fake_google.client_config()},
        instance_path=str(tmp_path / "instance"),
    )
    assert (tmp_path / "instance" / "example_app.sqlite3").exists()
    assert app.config.get("EXAMPLE_DATABASE") is None


def test_request_log_lines_do_not_show_codes_or_states():
    import logging

    from example_app.logs import RedactSecrets

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", "GET /oauth2callback?code=4/0abc&state=xyz&iss=http://x HTTP/1.1", "302"),
        None,
    )
    assert RedactSecrets().filter(record)
    message = record.getMessage()
    assert "4/0abc" not in message and "xyz" not in message
    assert "code=[redacted]&state=[redacted]&iss=http://x" in message
