"""Session backend outages on real, private servers: 503 only, never 500, and recovery.

For each backend (Redis, PostgreSQL through Flask-Session's ``sqlalchemy``
backend, memcached): sign in, stop the server, and check that every request
answers 503 — or 200 where the route does not use the session — and none
500; then start it again on the same port and check that the service is back
within 2 s by itself. Then the same with the app *started* while the server
is down. The servers are this test's own, on free loopback ports, ended by PID.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import require
from tests.sign_in_helpers import callback_path, start

from .conftest import backend_app as _app

pytestmark = pytest.mark.integration

RECOVERY_SECONDS = 2.0


class Probe:
    """Requests made during an outage: their statuses and the slowest one."""

    def __init__(self) -> None:
        self.statuses: Counter = Counter()
        self.slowest = 0.0

    def get(self, client, path: str):
        began = time.monotonic()
        response = client.get(path)
        self.slowest = max(self.slowest, time.monotonic() - began)
        self.statuses[response.status_code] += 1
        assert "Traceback" not in response.get_data(as_text=True)
        return response


def _recovery_seconds(client, path: str = "/") -> float:
    """Seconds until *path* answers 200 (or its 302) again; fails after RECOVERY_SECONDS."""
    began = time.monotonic()
    statuses = Counter()
    while True:
        status = client.get(path).status_code
        statuses[status] += 1
        if status in (200, 302):
            return time.monotonic() - began
        assert status == 503, statuses
        assert time.monotonic() - began < RECOVERY_SECONDS, f"not back: {statuses}"
        time.sleep(0.05)


def test_outage_answers_503_never_500_and_recovers(backend, fake, clock, tmp_path):
    app = _app(backend, fake, clock, tmp_path)
    browser = app.test_client()
    assert browser.get(callback_path(fake.approve(start(browser)))).status_code == 302
    assert browser.get("/").get_data(as_text=True) == "home tester@example.com"
    pending = callback_path(fake.approve(start(browser)))  # a sign-in left half-way
    tokens = fake.request_counts["token"]

    backend.stop()
    probe = Probe()
    newcomer = app.test_client()
    for _ in range(2):
        assert probe.get(browser, "/plain").status_code == 200  # needs no session
        assert probe.get(browser, "/").status_code == 503
        assert probe.get(browser, "/authorize").status_code == 503
        assert probe.get(newcomer, "/authorize").status_code == 503
        assert probe.get(newcomer, "/plain").status_code == 200
    assert probe.get(browser, pending).status_code == 503
    assert fake.request_counts["token"] == tokens  # the code was never redeemed
    assert set(probe.statuses) == {200, 503}, probe.statuses

    backend.start()
    seconds = _recovery_seconds(browser)
    expected = "home tester@example.com" if backend.keeps_data else "home anonymous"
    assert browser.get("/").get_data(as_text=True) == expected
    again = app.test_client()
    assert again.get(callback_path(fake.approve(start(again)))).status_code == 302
    print(
        f"\nOUTAGE {backend.name}: {sum(probe.statuses.values())} requests while down "
        f"{dict(probe.statuses)}, slowest {probe.slowest:.2f} s; back after {seconds:.2f} s"
    )


def test_app_starts_while_the_backend_is_down_and_recovers(backend, fake, clock, tmp_path):
    backend.stop()
    began = time.monotonic()
    app = _app(backend, fake, clock, tmp_path)  # must not raise
    started = time.monotonic() - began
    client = app.test_client()
    assert client.get("/plain").status_code == 200
    assert client.get("/authorize").status_code == 503
    assert client.get("/").status_code in (200, 503)  # no cookie: "/" may not need the backend

    backend.start()
    seconds = _recovery_seconds(client, "/authorize")
    browser = app.test_client()
    assert browser.get(callback_path(fake.approve(start(browser)))).status_code == 302
    assert browser.get("/").get_data(as_text=True) == "home tester@example.com"
    print(f"\nSTART-DOWN {backend.name}: init_app {started:.2f} s; back after {seconds:.2f} s")


# -- the embedded filesystem store on a full or read-only disk ----------------------


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Any]:
    """A 1 MiB tmpfs mounted for this test (root only), unmounted afterwards."""
    import os
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    can = os.geteuid() == 0 and shutil.which("mount") is not None
    if can:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
            capture_output=True,
        )
        can = done.returncode == 0
    require(can, "cannot mount a tmpfs (needs root)", "run the tests as root, as CI does")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder) -> Any:
    """Fill the disk of *folder* until writes fail (ENOSPC); the filler file."""
    filler = folder / "filler"
    with open(filler, "wb") as out:
        chunk = b"\0" * 65536
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError:
            pass
    return filler


def test_full_disk_of_the_embedded_store_is_a_503_not_a_silent_200(
    tiny_disk, make_app, fake, stored
):
    import subprocess

    sessions = tiny_disk / "sessions"
    app = make_app(session_dir=str(sessions), stored=stored)
    browser = app.test_client()
    assert browser.get(callback_path(fake.approve(start(browser)))).status_code == 302
    pending = callback_path(fake.approve(start(browser)))
    filler = _fill(tiny_disk)

    probe = Probe()
    assert probe.get(browser, "/plain").status_code == 200
    assert probe.get(app.test_client(), "/authorize").status_code == 503
    newcomer = app.test_client()
    assert probe.get(newcomer, "/authorize").status_code == 503
    assert "Set-Cookie" not in newcomer.get("/authorize").headers
    # The callback frees its pending record's file, so its session write may fit
    # in that space: a 302 must then be a saved sign-in, else it is a 503.
    response = probe.get(browser, pending)
    assert response.status_code in (302, 503)
    if response.status_code == 302:
        assert browser.get("/").get_data(as_text=True) == "home tester@example.com"
    else:
        assert "Location" not in response.headers
    assert not {s for s in probe.statuses if s >= 500} - {503}, probe.statuses

    filler.unlink()
    again = app.test_client()
    assert again.get(callback_path(fake.approve(start(again)))).status_code == 302

    # A read-only disk: the same, and a sign-in whose session cannot be written.
    half_way = callback_path(fake.approve(start(again)))
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    try:
        assert app.test_client().get("/authorize").status_code == 503
        assert again.get("/plain").status_code == 200
        assert again.get("/").get_data(as_text=True) == "home tester@example.com"
        response = again.get(half_way)
        assert response.status_code == 503
        assert "Location" not in response.headers
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)
    assert app.test_client().get("/authorize").status_code == 302


# -- 8 callbacks of one browser at once, on every backend ----------------------------


def test_eight_simultaneous_callbacks_of_one_browser_all_complete(backend, fake, clock, tmp_path):
    import threading

    from flask_google_flow.ext.pending import SessionPendingFlowStore

    app = _app(backend, fake, clock, tmp_path)
    store = app.extensions["google_flow"].pending.store
    assert not isinstance(store, SessionPendingFlowStore)  # each backend has its own
    first = app.test_client()
    locations = [start(first) for _ in range(8)]
    cookie = first.get_cookie("session").value
    callbacks = [callback_path(fake.approve(location)) for location in locations]
    clients = [app.test_client() for _ in callbacks]
    for client in clients:
        client.set_cookie("session", cookie)
    barrier = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def run(i: int) -> None:
        barrier.wait(10)
        statuses[i] = clients[i].get(callbacks[i]).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [302] * 8, statuses
    for client in clients:
        assert client.get("/").get_data(as_text=True) == "home tester@example.com"


# -- a server that accepts connections but answers nothing ---------------------------


def test_a_hung_backend_holds_a_request_only_for_the_clients_timeouts(
    backend, fake, clock, tmp_path
):
    """Bounded waits: with the documented client settings a hung server gives a 503."""
    import threading

    app = _app(backend, fake, clock, tmp_path)
    browser = app.test_client()
    assert browser.get(callback_path(fake.approve(start(browser)))).status_code == 302
    results: dict[str, Any] = {}

    def request() -> None:
        began = time.monotonic()
        results["status"] = browser.get("/").status_code
        results["seconds"] = time.monotonic() - began

    with backend.hang():
        worker = threading.Thread(target=request)
        worker.start()
        worker.join(30)  # far above the clients' timeouts; a hang fails here
        assert not worker.is_alive(), "the request is still waiting for the hung backend"
    assert results["status"] == 503
    assert browser.get("/").status_code == 200  # and back at once
    print(f"\nHUNG {backend.name}: 503 after {results['seconds']:.2f} s")


def test_a_stale_memcached_connection_is_a_503_then_reconnects(fake, clock, tmp_path):
    """A plain pymemcache client (no retry) after a memcached restart: 503 once, not 500."""
    from pymemcache.client.base import Client

    from tests.backends.servers import MemcachedServer, memcached_installed

    from .conftest import Backend

    require(memcached_installed(), "memcached is not installed", "apt-get install memcached")
    server = MemcachedServer().start()
    try:

        def configure(app):
            client = Client(server.address, connect_timeout=1, timeout=1, default_noreply=False)
            app.config.update(SESSION_TYPE="memcached", SESSION_MEMCACHED=client)

        backend = Backend(
            "memcached", configure, server.stop, server.start, keeps_data=False, hang=None
        )
        app = _app(backend, fake, clock, tmp_path)
        browser = app.test_client()
        assert browser.get(callback_path(fake.approve(start(browser)))).status_code == 302
        server.stop()
        server.start()
        first = browser.get("/")
        assert first.status_code in (200, 503), first.status_code
        assert browser.get("/").status_code == 200
    finally:
        server.stop()
