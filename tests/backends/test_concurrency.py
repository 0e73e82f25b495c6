"""Races of one browser on every backend with an atomic pending-flow store.

The app runs in a real threaded werkzeug server (``make_server(threaded=True)``)
on the backend under test, and the fake Google is a real HTTP server, so
requests really overlap:

* a callback URL replayed from 10 threads at once reaches the token endpoint
  exactly once, and the one sign-in that succeeds holds live tokens (Google
  revokes every token of a reused code, so a second exchange would kill them);
* 8 parallel ``/authorize`` of one browser (cookie already set) all leave a
  pending flow, and their 8 callbacks, one after the other, all complete.
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
from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.pending import (
    FilePendingFlowStore,
    MemcachedPendingFlowStore,
    RedisPendingFlowStore,
    SqlPendingFlowStore,
)
from flask_google_flow.testing import FakeGoogle
from tests.integration.harness import replay_at_once

from . import servers
from .load_app import build_app

pytestmark = pytest.mark.integration

PARALLEL = 8
REPLAYS = 10
EXPECTED_STORE = {
    "files": FilePendingFlowStore,
    "redis": RedisPendingFlowStore,
    "memcached": MemcachedPendingFlowStore,
    "postgresql": SqlPendingFlowStore,
    "mariadb": SqlPendingFlowStore,
    "sqlite": SqlPendingFlowStore,
}


@pytest.fixture
def serve_app(
    fake_google: FakeGoogle, backend: str, backend_url: str, tmp_path: Path
) -> Callable[[], contextlib.AbstractContextManager]:
    @contextlib.contextmanager
    def serve() -> Iterator[tuple[str, Flask]]:
        lock = threading.Lock()
        stored: list[tuple[str, dict]] = []

        def store(credentials, id_info):
            with lock:
                stored.append((credentials.token, dict(id_info)))

        with servers.ThreadedServer() as server:
            app = build_app(
                backend,
                url=backend_url,
                folder=tmp_path,
                client_config=fake_google.client_config([server.url + "/oauth2callback"]),
                discovery_url=fake_google.discovery_url,
                ca_bundle=fake_google.ca_cert,
                on_store=store,
            )
            assert type(GoogleFlow.state(app).pending.store) is EXPECTED_STORE[backend]
            app.stored = stored  # type: ignore[attr-defined]
            server.serve(app)
            try:
                yield server.url, app
            finally:
                servers.dispose_engines(app)

    return serve


def test_parallel_replays_of_one_callback_reach_the_token_endpoint_once(serve_app, fake_google):
    with serve_app() as (base, app), requests.Session() as browser:
        start = browser.get(base + "/authorize", allow_redirects=False, timeout=10)
        assert start.status_code == 302, start.text[:300]
        callback = browser.get(start.headers["Location"], allow_redirects=False, timeout=10)
        cookie = browser.cookies["session"]
        fake_google.reset_counts()
        statuses = replay_at_once(callback.headers["Location"], cookie, REPLAYS)
        assert statuses == Counter({302: 1, 400: REPLAYS - 1})
        assert fake_google.request_counts["token"] == 1
        assert len(app.stored) == 1
        token, claims = app.stored[0]
        assert fake_google.access_token_is_valid(token)  # the winner's tokens are live
        assert claims["email"] == "tester@example.com"


def test_parallel_authorize_of_one_browser_all_complete(serve_app, fake_google):
    with serve_app() as (base, app), requests.Session() as browser:
        first = browser.get(base + "/authorize", allow_redirects=False, timeout=10)
        assert first.status_code == 302, first.text[:300]
        cookie = browser.cookies["session"]
        barrier = threading.Barrier(PARALLEL)

        def tab(n: int) -> requests.Response:
            barrier.wait(10)
            return requests.get(
                base + "/authorize",
                params={"next": f"/whoami?tab={n}"},
                cookies={"session": cookie},
                allow_redirects=False,
                timeout=20,
            )

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            responses = list(pool.map(tab, range(PARALLEL)))
        assert [r.status_code for r in responses] == [302] * PARALLEL
        for n, response in enumerate(responses):
            callback = browser.get(response.headers["Location"], allow_redirects=False, timeout=10)
            done = browser.get(callback.headers["Location"], allow_redirects=False, timeout=20)
            assert done.status_code == 302, (n, done.status_code, done.text[:300])
            assert done.headers["Location"] == f"/whoami?tab={n}"
        assert len(app.stored) == PARALLEL
        assert fake_google.request_counts["token"] == PARALLEL
        assert all(fake_google.access_token_is_valid(token) for token, _ in app.stored)
        assert browser.get(base + "/whoami", timeout=10).text == "user tester@example.com"
