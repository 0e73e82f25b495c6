"""Races of one browser session, and shared objects under a threaded server.

The app runs in a real threaded werkzeug server (``make_server(threaded=True)``)
and the fake Google is a real HTTP server, so requests really overlap.
Backends: the embedded filesystem session (the default) and Redis.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask, session
from werkzeug.serving import make_server

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.resilience import fail_fast_redis, guard_session_backend
from flask_google_flow.testing import FakeGoogle

from .harness import login_once, replay_at_once

pytestmark = pytest.mark.integration

PARALLEL = 8


@pytest.fixture(params=["filesystem", "redis"])
def backend(request) -> dict:
    if request.param == "filesystem":
        return {}  # no SESSION_TYPE: GoogleFlow installs the embedded filesystem session
    redis_server = request.getfixturevalue("redis_server")
    return {"SESSION_TYPE": "redis", "SESSION_REDIS": fail_fast_redis(redis_server.url)}


@pytest.fixture
def serve_app(
    fake_google: FakeGoogle, backend: dict, tmp_path: Path
) -> Callable[..., contextlib.AbstractContextManager]:
    stored: list[dict] = []

    @contextlib.contextmanager
    def serve() -> Iterator[str]:
        # The redirect URI needs the port, so bind first, then configure the app.
        app = Flask(__name__, instance_path=str(tmp_path / "instance"))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config.update(
            SECRET_KEY="race-secret",
            GOOGLE_CLIENT_CONFIG=fake_google.client_config([base + "/oauth2callback"]),
            GOOGLE_FLOW_DISCOVERY_URL=fake_google.discovery_url,
            GOOGLE_FLOW_CA_BUNDLE=fake_google.ca_bundle,
            **backend,
        )
        extension = GoogleFlow()
        lock = threading.Lock()

        @extension.store
        def store(credentials, id_info):
            with lock:
                stored.append(dict(id_info))

        extension.init_app(app)
        guard_session_backend(app)

        @app.get("/whoami")
        def whoami():
            user = session.get("_google_flow_user")
            return f"user {user['claims'].get('email') if user else '-'}"

        app.stored = stored  # type: ignore[attr-defined]
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield base, app
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)

    return serve


def _authorize(base: str, cookie: str, n: int) -> requests.Response:
    return requests.get(
        base + "/authorize",
        params={"next": f"/whoami?tab={n}"},
        cookies={"session": cookie},
        allow_redirects=False,
        timeout=10,
    )


def test_parallel_authorize_of_one_session_all_complete(serve_app, fake_google):
    """Tabs opening /authorize at the same moment: no tab's pending flow is lost."""
    with serve_app() as (base, app), requests.Session() as browser:
        first = browser.get(base + "/authorize", allow_redirects=False, timeout=10)
        assert first.status_code == 302
        cookie = browser.cookies["session"]
        barrier = threading.Barrier(PARALLEL)

        def tab(n: int) -> requests.Response:
            barrier.wait(5)
            return _authorize(base, cookie, n)

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            responses = list(pool.map(tab, range(PARALLEL)))
        assert [r.status_code for r in responses] == [302] * PARALLEL
        # Every tab's sign-in completes, one after the other, as the user
        # approves each (the browser keeps the cookie it is given).
        for n, response in enumerate(responses):
            callback = browser.get(response.headers["Location"], allow_redirects=False, timeout=10)
            done = browser.get(callback.headers["Location"], allow_redirects=False, timeout=10)
            assert done.status_code == 302, (n, done.status_code, done.text[:300])
            assert done.headers["Location"] == f"/whoami?tab={n}"
        assert len(app.stored) == PARALLEL
        assert browser.get(base + "/whoami", timeout=10).text == "user tester@example.com"


def test_parallel_replays_of_one_callback_succeed_once(serve_app, fake_google):
    """The same callback URL fired from several threads: exactly one sign-in."""
    with serve_app() as (base, app), requests.Session() as browser:
        start = browser.get(base + "/authorize", allow_redirects=False, timeout=10)
        callback = browser.get(start.headers["Location"], allow_redirects=False, timeout=10)
        cookie = browser.cookies["session"]
        statuses = replay_at_once(callback.headers["Location"], cookie, PARALLEL, timeout=10)
        assert statuses == Counter({302: 1, 400: PARALLEL - 1})
        assert len(app.stored) == 1
        assert fake_google.request_counts["token"] == 1


def test_shared_objects_under_a_threaded_server(serve_app, fake_google):
    """Many browsers at once on a cold app: one discovery, one certs fetch, no error."""
    accounts = [f"thread{i}@example.com" for i in range(120)]
    for account in accounts:
        fake_google.add_account(account)
    with serve_app() as (base, app):
        barrier = threading.Barrier(16)

        def browser(i: int):
            with requests.Session() as http:
                if i < 16:
                    barrier.wait(5)  # the first 16 hit the cold caches together
                return login_once(http, base, accounts[i], i)

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(browser, range(len(accounts))))
        assert all(r.ok for r in results), [r.statuses for r in results if not r.ok][:3]
        assert Counter(x["email"] for x in app.stored) == Counter(accounts)
        counts = fake_google.request_counts
        assert counts["discovery"] == 1
        assert counts["certs"] == 1
        assert counts["token"] == len(accounts)
        state = GoogleFlow.state(app)
        assert state.provider.certs.fetch_count == 1
