"""Loading and validating client secrets: every failure names the file and the problem."""

from __future__ import annotations

import json

import pytest
from flow_support import CLIENT_SECRET, dump, make_config

from flask_google_flow.core import client_secrets
from flask_google_flow.exceptions import ClientSecretsError, FlowError
from flask_google_flow.flow import Flow, InstalledAppFlow
from flask_google_flow.helpers import session_from_client_secrets_file


@pytest.mark.parametrize("client_type", ["web", "installed"])
def test_valid_file_round_trip(tmp_path, client_type):
    path = tmp_path / "client_secret.json"
    dump(path, make_config(client_type))
    kind, config = client_secrets.load_client_secrets_file(path)
    assert kind == client_type
    assert config[client_type]["client_id"] == "cid.apps.googleusercontent.com"


def test_web_wins_when_both_present():
    config = {**make_config("installed"), **make_config("web")}
    assert client_secrets.validate_client_config(config)[0] == "web"


def test_json_string_accepted():
    kind, config = client_secrets.validate_client_config(json.dumps(make_config("installed")))
    assert kind == "installed"
    assert config["installed"]["token_uri"].startswith("https://")


def test_error_is_value_error_and_flow_error():
    assert issubclass(ClientSecretsError, ValueError)
    assert issubclass(ClientSecretsError, FlowError)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(ClientSecretsError, match="does not exist") as info:
        Flow.from_client_secrets_file(str(path), scopes=["openid"])
    assert str(path) in str(info.value)


def test_directory(tmp_path):
    with pytest.raises(ClientSecretsError, match="directory") as info:
        client_secrets.load_client_secrets_file(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "secret.json"
    dump(path, make_config())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(client_secrets, "open", denied, raising=False)
    with pytest.raises(ClientSecretsError, match="permission denied") as info:
        client_secrets.load_client_secrets_file(path)
    assert str(path) in str(info.value)


def test_not_json_names_file_and_position_but_not_content(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"web": {"client_secret": "' + CLIENT_SECRET + '",', encoding="utf-8")
    with pytest.raises(ClientSecretsError, match="not valid JSON") as info:
        InstalledAppFlow.from_client_secrets_file(path, scopes=["openid"])
    message = str(info.value)
    assert str(path) in message and "line 1" in message
    assert CLIENT_SECRET not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_empty_file(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(ClientSecretsError, match="is empty"):
        client_secrets.load_client_secrets_file(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"web": "\xff\xfe"}')
    with pytest.raises(ClientSecretsError, match="UTF-8"):
        client_secrets.load_client_secrets_file(path)


@pytest.mark.parametrize("document", ["[]", "42", '"web"', "null"])
def test_top_level_not_object(tmp_path, document):
    path = tmp_path / "c.json"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ClientSecretsError, match="must be a JSON object") as info:
        session_from_client_secrets_file(path, ["openid"])
    assert str(path) in str(info.value)


def test_neither_web_nor_installed_lists_keys_and_hints():
    inner = make_config()["web"]
    with pytest.raises(ClientSecretsError, match="web or installed") as info:
        Flow.from_client_config(inner, scopes=["openid"])
    message = str(info.value)
    assert "'client_id'" in message and "wrap it" in message
    assert CLIENT_SECRET not in message


def test_inner_not_object():
    with pytest.raises(ClientSecretsError, match="'web' must be a JSON object"):
        client_secrets.validate_client_config({"web": ["x"]})


@pytest.mark.parametrize("key", ["client_id", "auth_uri", "token_uri"])
def test_missing_required_key(tmp_path, key):
    config = make_config()
    del config["web"][key]
    path = tmp_path / "c.json"
    dump(path, config)
    with pytest.raises(ClientSecretsError, match=f"missing required key\\(s\\): {key}") as info:
        client_secrets.load_client_secrets_file(path)
    assert str(path) in str(info.value)
    assert CLIENT_SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("client_id", 123, "'web.client_id' must be a string"),
        ("token_uri", "", "'web.token_uri' is empty"),
        ("client_secret", ["x"], "'web.client_secret' must be a string"),
        ("redirect_uris", "http://localhost", "'web.redirect_uris' must be a list"),
    ],
)
def test_wrong_types(key, value, fragment):
    with pytest.raises(ClientSecretsError) as info:
        client_secrets.validate_client_config(make_config(**{key: value}), source="GOOGLE_X")
    assert fragment in str(info.value)
    assert "GOOGLE_X" in str(info.value)


def test_wrong_type_of_secret_does_not_leak_it():
    config = make_config(client_secret={"nested": CLIENT_SECRET})
    with pytest.raises(ClientSecretsError) as info:
        client_secrets.validate_client_config(config)
    assert CLIENT_SECRET not in str(info.value)


def test_invalid_json_string_config():
    with pytest.raises(ClientSecretsError, match="client config is not valid JSON"):
        Flow.from_client_config('{"web": ', scopes=None)
