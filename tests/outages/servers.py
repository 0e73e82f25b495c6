"""Private servers the outage tests stop and restart: memcached and a PostgreSQL cluster.

Each listens on a free 127.0.0.1 port of its own, is started as a child of
the test process (its PID is the server's) and is ended by that PID. Both
keep their port across :meth:`stop` / :meth:`start`, so clients reconnect.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.integration.harness import free_port, wait_for_port

POSTGRES_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin")


def _end(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Send *sig* to the process by its PID and wait (SIGKILL if it lingers)."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(5)


class MemcachedServer:
    """A private ``memcached`` (run as ``nobody``), nothing kept across a restart."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("memcached") is not None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> MemcachedServer:
        command = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "16"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        _end(self.process)
        self.process = None


def postgres_bin() -> Path | None:
    """The folder with ``initdb`` and ``postgres``, or ``None``."""
    for folder in POSTGRES_BIN_DIRS:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    return None


class PostgresCluster:
    """A private PostgreSQL cluster (``initdb`` + ``postgres``), trust auth, loopback only.

    As root, the cluster belongs to the ``postgres`` user (initdb refuses to
    run as root); its folder is made under the system temp folder for that
    user to reach it.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bin = postgres_bin()
        self.directory = Path(tempfile.mkdtemp(prefix="flask-google-flow-pg-"))
        self.data = self.directory / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        self.process: subprocess.Popen | None = None
        if self.user:
            shutil.chown(self.directory, self.user)
        assert self.bin is not None, "no PostgreSQL binaries"
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self.user,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresCluster:
        self.process = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.directory),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open connections are cut, as in a crash of the server."""
        _end(self.process, signal.SIGINT)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
