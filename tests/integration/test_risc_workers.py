"""Cross-Account Protection on a real deployment: the example app, 4 gunicorn workers, Redis.

A ``sessions-revoked`` event received by one worker ends the user's sessions
on every worker at once: the very next request of each session, whichever
worker answers it, is signed out. Which worker answered a request is read from
gunicorn's access log, which logs a probe header the test sends with each one.
"""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from flask_google_flow import risc_cli
from flask_google_flow.testing import FakeGoogle
from tests.conftest import require

from .harness import Gunicorn, RedisServer, free_port, login_once

pytestmark = pytest.mark.integration

WORKERS = 4
SESSIONS = 40
"""Signed-in browsers of the one user: their first requests after the event
reach every worker (a worker missed by all 40 has odds of about 4 in 100,000)."""


@pytest.fixture
def deployment(
    redis_server: RedisServer, fake_google: FakeGoogle, tmp_path: Path
) -> Iterator[tuple[Gunicorn, Path]]:
    require(
        importlib.util.find_spec("gunicorn") is not None,
        "gunicorn is not installed",
        "pip install gunicorn (it is in the test extra)",
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = fake_google.client_config(redirect_uris=[base + "/oauth2callback"])
    access_log = tmp_path / "access.log"
    server = Gunicorn(
        "example_app:create_app()",
        {
            "SECRET_KEY": "integration-test-secret",
            "GOOGLE_CLIENT_CONFIG": json.dumps(config),
            "GOOGLE_FLOW_DISCOVERY_URL": fake_google.discovery_url,
            "GOOGLE_FLOW_CA_BUNDLE": fake_google.ca_cert,  # the fake's https back channel
            "GOOGLE_FLOW_RISC_ENABLED": "true",
            "GOOGLE_FLOW_RISC_CONFIGURATION_URL": fake_google.risc.configuration_url,
            "REDIS_URL": redis_server.url,
            "EXAMPLE_DATABASE": str(tmp_path / "example.sqlite3"),
        },
        workers=WORKERS,
        port=port,
        log_file=tmp_path / "gunicorn.log",
        extra_args=[
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %({x-probe}i)s %(U)s %(s)s",
        ],
    )
    try:
        yield server.start(), access_log
    finally:
        server.stop()


class Probes:
    """Requests tagged with a probe id, and the worker PID gunicorn logged for each."""

    def __init__(self, app_url: str, access_log: Path) -> None:
        self.app_url = app_url
        self.access_log = access_log
        self.sent: list[tuple[str, int]] = []

    def get(self, path: str, cookies: dict[str, str]) -> int:
        probe = uuid.uuid4().hex
        # A new connection each time, so the requests spread over the workers.
        response = requests.get(
            self.app_url + path,
            cookies=cookies,
            headers={"X-Probe": probe, "Connection": "close"},
            allow_redirects=False,
            timeout=10,
        )
        self.sent.append((probe, response.status_code))
        return response.status_code

    def workers(self) -> dict[str, int]:
        """Probe id → worker PID, once every sent probe is in the log (bounded wait)."""
        wanted = {probe for probe, _ in self.sent}
        deadline = time.monotonic() + 15
        while True:
            found = {}
            for line in self.access_log.read_text(encoding="utf-8").splitlines():
                pid, probe, _path, _status = line.split(" ", 3)
                if probe in wanted:
                    found[probe] = int(pid.strip("<>"))
            if len(found) == len(wanted) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def _sign_in(app_url: str, email: str, index: int) -> dict[str, str]:
    with requests.Session() as http:
        result = login_once(http, app_url, email, index)
        assert result.ok, (result.statuses, result.bodies)
        return dict(http.cookies)


def test_sessions_revoked_ends_the_users_sessions_on_every_worker(deployment, fake_google):
    server, access_log = deployment
    email = fake_google.default_account.email
    sessions = [_sign_in(server.url, email, i) for i in range(SESSIONS)]
    other_user = fake_google.add_account("bystander@example.com")
    bystander = _sign_in(server.url, other_user.email, SESSIONS)
    probes = Probes(server.url, access_log)

    # Before: the first session is signed in on every worker.
    for _ in range(200):
        assert probes.get("/profile", sessions[0]) == 200
        if len(set(probes.workers().values())) == WORKERS:
            break
    before = probes.workers()
    assert len(set(before.values())) == WORKERS, "the requests did not reach every worker"
    probes.sent.clear()

    # The event, pushed to the app like Google's transmitter does.
    token = fake_google.risc_event("sessions-revoked", sub=fake_google.default_account.sub)
    assert fake_google.risc.push(server.url + "/risc", token) == 202

    # After: the first request of every session is signed out, whichever worker answers.
    statuses = [probes.get("/profile", cookies) for cookies in sessions]
    first_requests = probes.workers()
    assert statuses == [302] * SESSIONS
    assert set(first_requests.values()) == set(before.values()), "not every worker was asked"
    assert probes.get("/profile", bystander) == 200  # another user stays signed in

    # A replay of the same SET is acknowledged and does nothing: a new sign-in survives it.
    fresh = _sign_in(server.url, email, SESSIONS + 1)
    assert fake_google.risc.push(server.url + "/risc", token) == 202
    assert probes.get("/profile", fresh) == 200


def test_registration_and_verification_through_the_fake_risc_api(deployment, fake_google, tmp_path):
    """``flask-google-flow-risc register`` then ``verify``: the app receives the test event."""
    server, _ = deployment
    key_file = tmp_path / "risc-admin.json"
    key_file.write_text(json.dumps(fake_google.risc.service_account_info()))
    common = [
        "--service-account-file",
        str(key_file),
        "--api-base-url",
        fake_google.risc.api_base_url,
        "--ca-bundle",
        fake_google.ca_cert,
    ]
    receiver = server.url + "/risc"
    assert risc_cli.main(["register", *common, "--receiver-url", receiver]) == 0
    assert risc_cli.main(["verify", *common, "--state", "integration check"]) == 0
    assert fake_google.risc.deliveries == [(receiver, 202)]
