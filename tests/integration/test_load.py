"""1,000 complete logins from 50 concurrent clients: the example app, 4 gunicorn workers, Redis."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import requests

from .conftest import store_calls, worker_pids
from .harness import run_logins

pytestmark = pytest.mark.integration

LOGINS = int(os.environ.get("GOOGLE_FLOW_LOAD_LOGINS", "1000"))
CONCURRENCY = int(os.environ.get("GOOGLE_FLOW_LOAD_CONCURRENCY", "50"))


def test_logins_under_load_complete_exactly_once(start_app, fake_google):
    # Each login signs in its own account, so "store ran once per login" is
    # "one store_audit row per sub".
    accounts = [f"load{i}@example.com" for i in range(LOGINS)]
    subs = [fake_google.add_account(account).sub for account in accounts]
    app = start_app()

    report = run_logins(app.url, accounts, concurrency=CONCURRENCY, deadline=240)
    print(f"\nLOAD {LOGINS} logins, {CONCURRENCY} clients, 4 workers: {report.summary()}")

    assert not report.failed, [(x.account, x.statuses, x.error) for x in report.failed[:5]]
    assert not [s for s in report.statuses() if s >= 500]
    # store ran exactly once per login, for the right account; nothing lost.
    assert store_calls(app.database) == Counter(subs)
    assert fake_google.request_counts["token"] == LOGINS
    # Every worker took part, and flows crossed workers.
    assert len(worker_pids(app.access_log, "/oauth2callback")) == 4
    assert len(worker_pids(app.access_log, "/authorize")) == 4


def test_a_flow_started_on_one_process_completes_on_another(start_app, fake_google):
    """Two gunicorn servers (two "hosts") sharing Redis: start on A, finish on B, read on A."""
    sub = fake_google.add_account("roaming@example.com").sub
    host_a = start_app(workers=1)
    host_b = start_app(workers=1)
    with requests.Session() as http:
        r1 = http.get(
            host_a.url + "/authorize",
            params={"login_hint": "roaming@example.com", "next": "/profile"},
            allow_redirects=False,
            timeout=10,
        )
        assert r1.status_code == 302
        r2 = http.get(r1.headers["Location"], allow_redirects=False, timeout=10)
        callback = r2.headers["Location"]
        assert callback.startswith(host_a.url + "/oauth2callback?")
        # The browser's callback lands on the other host (cookies ignore the port).
        r3 = http.get(callback.replace(host_a.url, host_b.url), allow_redirects=False, timeout=10)
        assert r3.status_code == 302, r3.text
        assert r3.headers["Location"] == "/profile"
        for host in (host_a, host_b):
            page = http.get(host.url + "/profile", allow_redirects=False, timeout=10)
            assert page.status_code == 200, (host.url, page.status_code)
            assert '<td id="claim-email">roaming@example.com</td>' in page.text
    assert store_calls(host_b.database) == Counter({sub: 1})
    assert worker_pids(host_a.access_log, "/oauth2callback") == Counter()
    assert sum(worker_pids(host_b.access_log, "/oauth2callback").values()) == 1
