"""1,000 complete sign-ins from 50 clients over 4 gunicorn workers, on each backend.

Each sign-in is a fresh browser and its own account, so "nothing lost" is:
every sign-in ends on its ``next`` URL, ``store`` ran exactly once per
account, the token endpoint was called once per sign-in, and no response was
a 5xx. The summary line (throughput, p50/p99) is printed for
docs/performance.md.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from flask_google_flow.testing import FakeGoogle
from tests.integration.harness import Gunicorn, free_port, run_logins

pytestmark = pytest.mark.integration

LOGINS = int(os.environ.get("GOOGLE_FLOW_LOAD_LOGINS", "1000"))
CONCURRENCY = int(os.environ.get("GOOGLE_FLOW_LOAD_CONCURRENCY", "50"))


def _prepare(env: dict[str, str]) -> None:
    """Create the tables once, before the workers start (they would race to create them)."""
    from tests.backends.load_app import create_app

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        create_app()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_sign_ins_under_load_complete_exactly_once(
    backend: str, backend_url: str, fake_google: FakeGoogle, tmp_path: Path
):
    accounts = [f"load{i}@example.com" for i in range(LOGINS)]
    subs = [fake_google.add_account(account).sub for account in accounts]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake_google.register_redirect_uri(base + "/oauth2callback")
    store_log = tmp_path / "store.log"
    env = {
        "SECRET_KEY": "load-secret",
        "GOOGLE_CLIENT_CONFIG": json.dumps(fake_google.client_config([base + "/oauth2callback"])),
        "GOOGLE_FLOW_DISCOVERY_URL": fake_google.discovery_url,
        # The CA alone, not the full bundle: each new TLS connection to the fake loads it.
        "GOOGLE_FLOW_CA_BUNDLE": fake_google.ca_cert,
        "GF_BACKEND": backend,
        "GF_BACKEND_URL": backend_url,
        "GF_FOLDER": str(tmp_path),
        "GF_STORE_LOG": str(store_log),
    }
    _prepare(env)
    fake_google.reset_counts()
    server = Gunicorn(
        "tests.backends.load_app:create_app()",
        env,
        workers=4,
        port=port,
        log_file=tmp_path / "gunicorn.log",
    )
    with server:
        report = run_logins(server.url, accounts, concurrency=CONCURRENCY, deadline=240)
    print(
        f"\nLOAD {backend}: {LOGINS} sign-ins, {CONCURRENCY} clients, 4 workers: {report.summary()}"
    )

    assert not report.failed, [(x.account, x.statuses, x.error) for x in report.failed[:5]]
    assert not [s for s in report.statuses() if s >= 500], server.log_tail()
    stored = Counter(store_log.read_text().split())
    assert stored == Counter(subs)
    assert fake_google.request_counts["token"] == LOGINS
