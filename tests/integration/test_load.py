"""1,000 complete logins from 50 concurrent clients against 4 gunicorn workers on Redis."""

from __future__ import annotations

import os
from collections import Counter

import pytest
import requests

from .conftest import audit_rows
from .harness import run_logins

pytestmark = pytest.mark.integration

LOGINS = int(os.environ.get("GOOGLE_FLOW_LOAD_LOGINS", "1000"))
CONCURRENCY = int(os.environ.get("GOOGLE_FLOW_LOAD_CONCURRENCY", "50"))


def test_logins_under_load_complete_exactly_once(start_app, fake_google):
    accounts = [f"load{i}@example.com" for i in range(LOGINS)]
    for account in accounts:
        fake_google.add_account(account)
    app = start_app()

    report = run_logins(app.url, accounts, concurrency=CONCURRENCY, deadline=240)
    print(f"\nLOAD {LOGINS} logins, {CONCURRENCY} clients, 4 workers: {report.summary()}")

    assert not report.failed, [(x.account, x.statuses, x.error) for x in report.failed[:5]]
    assert not [s for s in report.statuses() if s >= 500]
    # store ran exactly once per login, for the right account; nothing lost.
    by_email = Counter(email for _sub, email, _pid in audit_rows(app.database))
    assert by_email == Counter(accounts)
    assert fake_google.request_counts["token"] == LOGINS
    # Every worker took part.
    pids = {pid for _sub, _email, pid in audit_rows(app.database)}
    assert len(pids) == 4


def test_a_flow_started_on_one_process_completes_on_another(start_app, fake_google):
    """Two gunicorn servers (two "hosts") sharing Redis: start on A, finish on B, read on A."""
    fake_google.add_account("roaming@example.com")
    host_a = start_app(workers=1)
    host_b = start_app(workers=1)
    with requests.Session() as http:
        r1 = http.get(
            host_a.url + "/authorize",
            params={"login_hint": "roaming@example.com", "next": "/whoami"},
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
        assert r3.headers["Location"] == "/whoami"
        for host in (host_a, host_b):
            text = http.get(host.url + "/whoami", timeout=10).text
            assert text.startswith("user roaming@example.com "), text
    [(_sub, email, _pid)] = audit_rows(host_b.database)
    assert email == "roaming@example.com"
