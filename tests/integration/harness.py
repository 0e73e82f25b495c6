"""Processes for the integration tests (redis-server, gunicorn) and the bounded load driver.

Everything listens on 127.0.0.1 only. Every process started here is stopped
by its PID (``stop()``, also from ``__exit__``); every wait is bounded.

The load driver can also be run by hand against a running app::

    python -m tests.integration.harness --app http://127.0.0.1:8000 --logins 1000 \
        --concurrency 50 --accounts user{i}@example.com
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 15.0, process: subprocess.Popen | None = None):
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop_process(
    process: subprocess.Popen | None, *, sig: int = signal.SIGTERM, timeout: float = 10.0
) -> None:
    """Send *sig* to the process's own group (``start_new_session``), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # the group we created: start_new_session
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def replay_at_once(url: str, cookie: str, times: int, *, timeout: float = 20) -> Counter[int]:
    """GET *url* (a callback) *times* at once with the session *cookie*; the statuses counted.

    The requests wait at a barrier and go out together: the race single use must win.
    """
    barrier = threading.Barrier(times)

    def replay(_n: int) -> int:
        barrier.wait(10)
        return requests.get(
            url, cookies={"session": cookie}, allow_redirects=False, timeout=timeout
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(times) as pool:
        return Counter(pool.map(replay, range(times)))


class LocalServer:
    """A server process of this test run on a free loopback port.

    :meth:`start` runs :meth:`command` in a process group of its own and
    waits for the port; :meth:`stop` ends it by its PID (group), and
    :meth:`start` again keeps the port, so clients reconnect. Also a context
    manager.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The server's command line."""
        raise NotImplementedError

    def start(self) -> Self:
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        _stop_process(self.process)
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisServer(LocalServer):
    """A private ``redis-server`` without persistence: nothing survives a restart
    (``--save ''``, no AOF), like losing a cache.
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        super().__init__(port)
        self.directory = directory

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
            *("--dir", str(self.directory), "--loglevel", "warning"),
        ]


class Gunicorn:
    """``gunicorn -w WORKERS app_spec`` on a free loopback port.

    :param app_spec: ``module:callable`` (``"example_app:create_app()"``).
    :param env: extra environment variables (the app's configuration).
    """

    def __init__(
        self,
        app_spec: str,
        env: dict[str, str],
        *,
        workers: int = 4,
        port: int | None = None,
        log_file: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.app_spec = app_spec
        self.env = env
        self.workers = workers
        self.port = port or free_port()
        self.log_file = log_file
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str = "/") -> Gunicorn:
        if self.process is not None and self.process.poll() is None:
            # A second server on the port would orphan the first (stop() ends only one).
            raise RuntimeError("this gunicorn is running already (use `with server:` alone)")
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        self._log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
                "--backlog",
                "256",
                *self.extra_args,
                self.app_spec,
            ],
            env=env,
            cwd=str(ROOT),
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        # Every worker imports the app; wait until requests are answered.
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + ready_path, timeout=5).status_code < 500:
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"gunicorn did not answer in 30 s:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of gunicorn's own log (errors, tracebacks), for failure messages."""
        if self.log_file is None or not self.log_file.exists():
            return "(no log file)"
        text = self.log_file.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        _stop_process(self.process)
        self.process = None
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()  # type: ignore[union-attr]
            self._log = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the load driver -----------------------------------------------------------------


@dataclass
class Login:
    """The outcome of one login."""

    index: int
    account: str
    ok: bool = False
    statuses: list[int] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    final_status: int = 0
    started_at: float = 0.0
    bodies: list[str] = field(default_factory=list)


def login_once(
    http: requests.Session,
    app_url: str,
    account: str,
    index: int,
    *,
    timeout: float = 30.0,
) -> Login:
    """One complete login of a fresh browser: /authorize → fake authorize → callback.

    ``http`` keeps the client's connections; its cookie jar is emptied first, so
    every login is a new browser session.
    """
    result = Login(index, account)
    http.cookies.clear()
    next_path = f"/profile?login={index}"
    result.started_at = time.monotonic()
    started = time.perf_counter()
    try:
        r1 = http.get(
            app_url + "/authorize",
            params={"login_hint": account, "next": next_path},
            allow_redirects=False,
            timeout=timeout,
        )
        result.statuses.append(r1.status_code)
        if r1.status_code != 302:
            result.final_status = r1.status_code
            result.bodies.append(r1.text[:2000])
            return result
        r2 = http.get(r1.headers["Location"], allow_redirects=False, timeout=timeout)
        result.statuses.append(r2.status_code)
        if r2.status_code != 302:
            result.final_status = r2.status_code
            return result
        r3 = http.get(r2.headers["Location"], allow_redirects=False, timeout=timeout)
        result.statuses.append(r3.status_code)
        result.final_status = r3.status_code
        if r3.status_code != 302:
            result.bodies.append(r3.text[:2000])
        result.ok = r3.status_code == 302 and r3.headers.get("Location", "").endswith(next_path)
    except requests.RequestException as exc:
        result.error = type(exc).__name__
    finally:
        result.seconds = time.perf_counter() - started
    return result


@dataclass
class LoadReport:
    """What :func:`run_logins` measured."""

    logins: list[Login]
    wall_seconds: float

    @property
    def completed(self) -> list[Login]:
        return [x for x in self.logins if x.ok]

    @property
    def failed(self) -> list[Login]:
        return [x for x in self.logins if not x.ok]

    def statuses(self) -> Counter:
        return Counter(s for x in self.logins for s in x.statuses)

    def final_statuses(self) -> Counter:
        return Counter(x.final_status for x in self.logins)

    def percentile(self, p: float) -> float:
        times = sorted(x.seconds for x in self.completed)
        if not times:
            return float("nan")
        return times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]

    @property
    def rate(self) -> float:
        return len(self.completed) / self.wall_seconds if self.wall_seconds else 0.0

    def summary(self) -> str:
        mean = statistics.fmean(x.seconds for x in self.logins) if self.logins else 0.0
        return (
            f"{len(self.completed)}/{len(self.logins)} logins in {self.wall_seconds:.2f} s: "
            f"{self.rate:.1f} logins/s, p50 {self.percentile(50) * 1000:.0f} ms, "
            f"p99 {self.percentile(99) * 1000:.0f} ms, mean {mean * 1000:.0f} ms; "
            f"statuses {dict(sorted(self.statuses().items()))}"
        )


def run_logins(
    app_url: str,
    accounts: Sequence[str],
    *,
    concurrency: int = 50,
    deadline: float = 240.0,
    timeout: float = 30.0,
    first_index: int = 0,
    on_progress: threading.Event | None = None,
    progress_at: int = 0,
    pace: float = 0.0,
) -> LoadReport:
    """Drive one login per account from ``concurrency`` clients, each its own cookie jar.

    Bounded: exactly ``len(accounts)`` logins; logins not started before
    ``deadline`` seconds are skipped (reported as failed with error
    ``"deadline"``). ``on_progress`` is set once ``progress_at`` logins are done.
    ``pace``: each client waits that many seconds between its logins (so a
    run spans an outage whose failures are fast).
    """
    started = time.monotonic()
    logins: list[Login | None] = [None] * len(accounts)
    next_index = iter(range(len(accounts)))
    lock = threading.Lock()
    done = [0]

    def client() -> None:
        with requests.Session() as http:
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                if time.monotonic() - started > deadline:
                    logins[i] = Login(first_index + i, accounts[i], error="deadline")
                    continue
                logins[i] = login_once(http, app_url, accounts[i], first_index + i, timeout=timeout)
                if pace:
                    time.sleep(pace)
                with lock:
                    done[0] += 1
                    if on_progress is not None and done[0] >= progress_at:
                        on_progress.set()

    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        futures = [pool.submit(client) for _ in range(concurrency)]
        for future in futures:
            future.result()
    wall = time.monotonic() - started
    return LoadReport([x for x in logins if x is not None], wall)


def fetch_texts(app_url: str, path: str, cookies: requests.cookies.RequestsCookieJar, n: int):
    """GET ``path`` ``n`` times with a cookie jar, on new connections (spread over workers)."""
    texts = []
    for _ in range(n):
        response = requests.get(urljoin(app_url, path), cookies=cookies, timeout=10)
        texts.append((response.status_code, response.text))
    return texts


@contextlib.contextmanager
def running(*things: RedisServer | Gunicorn) -> Iterator[None]:
    """Stop the given processes (in reverse order) however the block ends."""
    try:
        yield
    finally:
        for thing in reversed(things):
            thing.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", required=True, help="the app's base URL (loopback only)")
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--accounts", default="user{i}@example.com")
    args = parser.parse_args(argv)
    if not args.app.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("the load driver only talks to loopback addresses")
    accounts = [args.accounts.format(i=i) for i in range(args.logins)]
    report = run_logins(args.app, accounts, concurrency=args.concurrency)
    print(report.summary())
    return 0 if not report.failed else 1


if __name__ == "__main__":
    sys.exit(main())
