"""Options: one table, constructor wins over config, config strings are parsed."""

from __future__ import annotations

from dataclasses import fields

import pytest

from flask_google_flow.ext.config import (
    OPTIONS,
    OPTIONS_BY_NAME,
    Settings,
    check_option_names,
    resolve_settings,
)


def test_every_setting_has_exactly_one_option():
    assert {f.name for f in fields(Settings)} == set(OPTIONS_BY_NAME)
    keys = [o.config_key for o in OPTIONS]
    assert len(keys) == len(set(keys))
    for option in OPTIONS:
        assert option.config_key.startswith("GOOGLE_")
        assert option.doc


def test_defaults():
    settings = resolve_settings({}, {})
    assert settings.scopes == ("openid", "email", "profile")
    assert settings.default_next == "/"
    assert settings.access_type == "offline"
    assert settings.pending_ttl == 600
    assert settings.blueprint_name == "google_flow"
    assert settings.register_blueprint is True
    assert settings.endpoint_overrides() == {}


def test_constructor_wins_over_config():
    settings = resolve_settings(
        {"GOOGLE_SCOPES": "openid email", "GOOGLE_FLOW_HOSTED_DOMAIN": "a.example"},
        {"hosted_domain": "b.example", "scopes": None},
    )
    assert settings.hosted_domain == "b.example"
    assert settings.scopes == ("openid", "email")


def test_config_strings_are_parsed():
    settings = resolve_settings(
        {
            "GOOGLE_SCOPES": "openid,email  https://www.googleapis.com/auth/drive.readonly",
            "GOOGLE_FLOW_PENDING_TTL": "120",
            "GOOGLE_FLOW_HTTP_TIMEOUT": "2.5",
            "GOOGLE_FLOW_REGISTER_BLUEPRINT": "false",
            "GOOGLE_CLIENT_CONFIG": '{"web": {"client_id": "x"}}',
            "GOOGLE_FLOW_TOKEN_ENDPOINT": "https://idp.example/token",
        },
        {},
    )
    assert settings.scopes[-1] == "https://www.googleapis.com/auth/drive.readonly"
    assert settings.pending_ttl == 120
    assert settings.http_timeout == 2.5
    assert settings.register_blueprint is False
    assert settings.client_config == {"web": {"client_id": "x"}}
    assert settings.endpoint_overrides() == {"token_endpoint": "https://idp.example/token"}


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("GOOGLE_FLOW_PENDING_TTL", "soon", "GOOGLE_FLOW_PENDING_TTL"),
        ("GOOGLE_FLOW_REGISTER_BLUEPRINT", "maybe", "GOOGLE_FLOW_REGISTER_BLUEPRINT"),
        ("GOOGLE_CLIENT_CONFIG", "{not json", "GOOGLE_CLIENT_CONFIG"),
        ("GOOGLE_CLIENT_CONFIG", "[1, 2]", "GOOGLE_CLIENT_CONFIG"),
        ("GOOGLE_FLOW_HTTP_TIMEOUT", "0", "must be positive"),
    ],
)
def test_bad_values_name_the_key(key, value, fragment):
    with pytest.raises(ValueError, match=fragment):
        resolve_settings({key: value}, {})


def test_unknown_constructor_option_is_a_type_error():
    check_option_names({"hosted_domain": "x"})
    with pytest.raises(TypeError, match="hosted_domian"):
        check_option_names({"hosted_domian": "x"})
