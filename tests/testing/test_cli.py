"""``python -m flask_google_flow.testing``: a foreground server that prints the settings to use.

The command runs as a subprocess on free ports; a Flask app configured with
exactly the lines it printed signs in against it over real HTTP (consent page
over http, code exchange and certs over https).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.testing.__main__ import WEB_REDIRECT_URIS, build_parser
from tests.integration.harness import free_port

from .consent import click_allow

ROOT = Path(__file__).resolve().parents[2]
APP_URL = "http://127.0.0.1:5000"


@dataclass
class Printed:
    """What the command printed up to its ``READY`` line."""

    text: str
    ready_url: str
    settings: dict[str, str]


def _read_until_ready(process: subprocess.Popen, timeout: float = 30) -> Printed:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        line = lines.get(timeout=timeout)
        if line is None:
            raise AssertionError("the command ended before READY:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("READY "):
            break
    settings = {}
    for line in seen:
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            [settings[name]] = shlex.split(value)
    return Printed("".join(seen), seen[-1].split()[1], settings)


@contextlib.contextmanager
def running_command(*args: str) -> Iterator[tuple[subprocess.Popen, Printed]]:
    """The command on free ports (unless *args* name them), stopped by its PID afterwards."""
    if "--port" not in args:
        args = ("--port", str(free_port()), "--tls-port", str(free_port()), *args)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask_google_flow.testing", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        yield process, _read_until_ready(process)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def command(tmp_path) -> Iterator[tuple[Printed, Path]]:
    config_file = tmp_path / "client_secret.json"
    with running_command(
        "--account", "bob@example.com", "--client-config-file", str(config_file)
    ) as (process, printed):
        yield printed, config_file
    assert process.returncode == 0  # SIGTERM is a clean stop


def _app(settings: dict[str, str], tmp_path: Path) -> Flask:
    """A minimal app configured with *settings* (what a user pastes) and nothing else."""
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="cli-test", **settings)
    google_flow = GoogleFlow(app)

    @app.get("/")
    def home():
        user = google_flow.user
        return user["email"] if user else "signed out"

    return app


def test_it_prints_every_setting_an_app_needs(command):
    printed, config_file = command
    settings = printed.settings
    assert sorted(settings) == [
        "GOOGLE_CLIENT_CONFIG",
        "GOOGLE_FLOW_CA_BUNDLE",
        "GOOGLE_FLOW_DISCOVERY_URL",
    ]
    issuer = printed.ready_url
    assert issuer.startswith("https://127.0.0.1:")
    assert settings["GOOGLE_FLOW_DISCOVERY_URL"] == issuer + "/.well-known/openid-configuration"
    config = json.loads(settings["GOOGLE_CLIENT_CONFIG"])
    assert config == json.loads(config_file.read_text())
    web = config["web"]
    assert web["redirect_uris"] == list(WEB_REDIRECT_URIS)
    assert web["redirect_uris"][0] == APP_URL + "/oauth2callback"
    assert web["auth_uri"].startswith("http://127.0.0.1:")
    assert web["token_uri"] == issuer + "/token"
    assert os.path.isfile(settings["GOOGLE_FLOW_CA_BUNDLE"])
    for shown in (web["auth_uri"], issuer, settings["GOOGLE_FLOW_CA_BUNDLE"], *WEB_REDIRECT_URIS):
        assert shown in printed.text
    document = requests.get(
        settings["GOOGLE_FLOW_DISCOVERY_URL"], verify=settings["GOOGLE_FLOW_CA_BUNDLE"], timeout=5
    ).json()
    assert document["issuer"] == issuer
    assert document["authorization_endpoint"] == web["auth_uri"]


def test_an_app_with_the_printed_settings_signs_in(command, tmp_path):
    printed, _ = command
    client = _app(printed.settings, tmp_path).test_client()
    response = client.get("/authorize", base_url=APP_URL)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(
        json.loads(printed.settings["GOOGLE_CLIENT_CONFIG"])["web"]["auth_uri"]
    )
    with requests.Session() as browser:
        answer = click_allow(browser, location, account="bob@example.com")
    callback = answer.headers["Location"]
    assert callback.startswith(APP_URL + "/oauth2callback?")
    finished = client.get(callback.removeprefix(APP_URL), base_url=APP_URL)
    assert finished.status_code == 302, finished.get_data(as_text=True)
    assert client.get("/", base_url=APP_URL).get_data(as_text=True) == "bob@example.com"


def test_without_the_ca_bundle_the_app_cannot_reach_the_back_channel(command, tmp_path):
    printed, _ = command
    settings = dict(printed.settings)
    del settings["GOOGLE_FLOW_CA_BUNDLE"]
    client = _app(settings, tmp_path).test_client()
    response = client.get("/authorize", base_url=APP_URL)
    assert response.status_code == 502  # the discovery document's certificate is not trusted


def test_redirect_uris_can_be_chosen_and_an_installed_client_gets_google_s_default():
    mine = ("http://127.0.0.1:8000/auth/callback", "http://localhost:8000/auth/callback")
    with running_command("--redirect-uri", mine[0], "--redirect-uri", mine[1]) as (_, printed):
        config = json.loads(printed.settings["GOOGLE_CLIENT_CONFIG"])
        assert config["web"]["redirect_uris"] == list(mine)
    with running_command("--client-type", "installed") as (_, printed):
        config = json.loads(printed.settings["GOOGLE_CLIENT_CONFIG"])
        assert config["installed"]["redirect_uris"] == ["http://localhost"]
        assert "REQUESTS_CA_BUNDLE=" in printed.text  # how to run a flow-layer script


def _free_port_pair() -> int:
    """A port *p* with *p* + 1 also free a moment ago."""
    while True:
        port = free_port()
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def test_the_tls_port_defaults_to_the_next_one():
    port = _free_port_pair()
    with running_command("--port", str(port)) as (_, printed):
        assert printed.ready_url == f"https://127.0.0.1:{port + 1}"


def test_a_busy_port_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "flask_google_flow.testing", *("--tls-port", str(port))],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(ROOT),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert result.returncode == 2
    assert f"{port} (https)" in result.stderr and "--tls-port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "phrase"),
    [
        ("--client-type", "desktop or command-line app"),
        ("--client-id", "the OAuth client id"),
        ("--client-secret", "checked at the token endpoint"),
        ("--redirect-uri", "register a redirect URI"),
        ("--tls-port", "https back channel"),
    ],
)
def test_options_have_help(option, phrase):
    options = " ".join(build_parser().format_help().split("options:", 1)[1].split())
    assert phrase in options.split(option + " ", 1)[1][:300]


def test_a_non_loopback_host_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "flask_google_flow.testing", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2
    assert "loopback addresses only" in result.stderr
