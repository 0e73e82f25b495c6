"""``flask-google-flow-risc``: register, verify and show, against the fake RISC API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flask_google_flow import risc_cli
from flask_google_flow.core.security_events import EVENT_TYPES
from flask_google_flow.ext import signals
from flask_google_flow.testing import FakeGoogle, SigningKey


@pytest.fixture
def key_file(fake, tmp_path) -> str:
    path = tmp_path / "risc-admin.json"
    path.write_text(json.dumps(fake.risc.service_account_info()))
    return str(path)


def run(*argv: str) -> int:
    return risc_cli.main(list(argv))


def test_register_sets_the_receiver_and_every_event_type(fake, key_file, capsys):
    code = run(
        "register", "--service-account-file", key_file,
        "--receiver-url", "https://app.example.com/auth/risc",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert fake.risc.stream == {
        "delivery": {
            "delivery_method": "https://schemas.openid.net/secevent/risc/delivery-method/push",
            "url": "https://app.example.com/auth/risc",
        },
        "events_requested": list(EVENT_TYPES.values()),
    }
    out = capsys.readouterr().out
    assert "registered https://app.example.com/auth/risc for 7 event type(s)" in out


def test_register_some_event_types(fake, key_file):
    code = run(
        "register", "--service-account-file", key_file,
        "--receiver-url", "https://app.example.com/risc",
        "--event", "sessions-revoked", "--event", EVENT_TYPES["verification"],
    )  # fmt: skip
    assert code == 0
    assert fake.risc.stream["events_requested"] == [
        EVENT_TYPES["sessions-revoked"],
        EVENT_TYPES["verification"],
    ]


def test_unknown_event_type_is_a_usage_error(key_file):
    with pytest.raises(SystemExit) as exit_info:
        run("register", "--service-account-file", key_file, "--receiver-url",
            "https://a.example/risc", "--event", "everything")  # fmt: skip
    assert exit_info.value.code == 2


def test_verify_sends_a_verification_event_the_app_accepts(fake, key_file, app, capsys):
    run("register", "--service-account-file", key_file, "--receiver-url", "https://a.example/risc")
    states: list[Any] = []

    def record(sender: Any, state: Any, **kwargs: Any) -> None:
        states.append(state)

    signals.risc_verification.connect(record)
    try:
        assert run("verify", "--service-account-file", key_file, "--state", "hello 1") == 0
        token = fake.risc.sent[-1]
        response = app.test_client().post("/risc", data=token)
    finally:
        signals.risc_verification.disconnect(record)
    assert response.status_code == 202
    assert states == ["hello 1"]
    assert "hello 1" in capsys.readouterr().out


def test_show_prints_the_stream(fake, key_file, capsys):
    run("register", "--service-account-file", key_file, "--receiver-url", "https://a.example/risc")
    capsys.readouterr()
    assert run("show", "--service-account-file", key_file) == 0
    assert json.loads(capsys.readouterr().out) == fake.risc.stream


def test_a_service_account_the_api_does_not_know_is_refused(fake, tmp_path, capsys):
    info = fake.risc.service_account_info()
    stranger = SigningKey.generate()
    from cryptography.hazmat.primitives import serialization

    info["private_key"] = stranger.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "stranger.json"
    path.write_text(json.dumps(info))
    assert run("show", "--service-account-file", str(path)) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err
    assert "PRIVATE KEY" not in err and "eyJ" not in err
    assert fake.risc.stream is None


def test_a_token_with_another_audience_is_refused(fake, key_file, monkeypatch):
    monkeypatch.setattr(risc_cli, "RISC_API_AUDIENCE", "https://example.com/other-api")
    assert run("show", "--service-account-file", key_file) == 1


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"type": "authorized_user"})])
def test_unusable_key_files(tmp_path, capsys, content):
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    assert run("show", "--service-account-file", str(path)) == 1
    assert str(path) in capsys.readouterr().err


def test_http_receiver_on_another_host_is_refused(fake, key_file, capsys):
    assert (
        run("register", "--service-account-file", key_file, "--receiver-url", "http://a.example/r")
        == 1
    )
    assert "https" in capsys.readouterr().err
    assert fake.risc.stream is None


def test_api_base_url_must_be_https(key_file, capsys):
    assert (
        run("show", "--service-account-file", key_file, "--api-base-url", "http://x.example") == 1
    )


def test_verify_before_register_is_a_404(fake, key_file, capsys):
    assert run("verify", "--service-account-file", key_file) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_the_api_base_url_is_configurable(tmp_path):
    """Against a fake served over HTTP (not intercepted): a loopback base URL, Google's audience."""
    server = FakeGoogle()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(server.risc.service_account_info()))
    with server.serve():
        code = run(
            "register", "--service-account-file", str(path),
            "--receiver-url", "https://app.example.com/risc",
            "--api-base-url", server.risc.api_base_url,
            "--ca-bundle", server.ca_cert,
        )  # fmt: skip
    assert code == 0
    assert server.risc.stream["delivery"]["url"] == "https://app.example.com/risc"
