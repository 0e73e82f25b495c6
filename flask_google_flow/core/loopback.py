"""The loopback redirect server behind ``InstalledAppFlow.run_local_server``.

A tiny threaded HTTP server on a loopback address (RFC 8252 §7.3) that waits
for the one request that completes the sign-in: ``GET /`` with the ``state``
of the flow in progress. Everything else is answered and ignored:

* a request whose ``Host`` header is not the redirect URI's host and port
  (a DNS-rebinding page at ``http://evil.example:<port>/`` that resolves to
  127.0.0.1) gets ``421`` (``400`` without a ``Host``) and the flow goes on;
* other paths (``/favicon.ico``, probes) get ``404`` and the flow goes on;
* a callback whose ``state`` is missing or wrong gets an error page and the
  flow goes on (so a stray or forged request cannot end it);
* a callback with the right ``state`` and ``error=`` (the user declined) ends
  the flow with that error; one with a ``code`` ends it successfully.

The page shown for the real callback is rendered only after the caller has
exchanged the code (:meth:`LoopbackServer.finish`), so the browser says
"success" only when the sign-in did succeed.

This module is private; its API may change without notice.
"""

from __future__ import annotations

import contextlib
import errno
import hmac
import html
import logging
import socket
import socketserver
import sys
import threading
import time
import wsgiref.simple_server
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from ..exceptions import LocalServerError, LocalServerTimeoutError

_LOGGER = logging.getLogger(__name__)

#: How long a single connection may stay silent before it is dropped (seconds).
CONNECTION_TIMEOUT = 10.0
#: How long the callback request waits for the caller's verdict (seconds).
VERDICT_TIMEOUT = 60.0
_PROBE_TIMEOUT = 0.1

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;
line-height:1.5;color:#202124}}h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""


def render_page(title: str, message: str) -> bytes:
    """Render a small HTML page; both texts are escaped."""
    return _PAGE.format(title=html.escape(title), message=html.escape(message)).encode("utf-8")


def is_listener_present(family: int, addr: str, port: int) -> bool:
    """Whether something already accepts TCP connections on ``(addr, port)``.

    :param family: ``socket.AF_INET`` or ``socket.AF_INET6``.
    :param addr: the address to probe.
    :param port: the port to probe.
    """
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(_PROBE_TIMEOUT)
            return probe.connect_ex((addr, port)) == 0
    except OSError:
        return False


def format_host(host: str) -> str:
    """Bracket an IPv6 literal for use in a URL authority."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _set_exclusive(sock: socket.socket) -> None:
    if sys.platform == "win32" and hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # pragma: no cover
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)


class _Handler(wsgiref.simple_server.WSGIRequestHandler):
    """Request handler that never logs query strings (they carry the code)."""

    timeout = CONNECTION_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        """Log the request method and path only, at debug level."""
        path = self.path.split("?", 1)[0] if isinstance(getattr(self, "path", None), str) else ""
        _LOGGER.debug("loopback server: %s %s", getattr(self, "command", "-"), path)

    def log_error(self, format: str, *args: Any) -> None:
        """Connection-level errors (timeouts, garbage) are not interesting."""
        _LOGGER.debug("loopback server: connection error")


class _Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    # On POSIX, SO_REUSEADDR only lets us rebind a port whose old connections
    # linger in TIME_WAIT (so the tool can run twice in a row); it never lets
    # two sockets listen on one port. On Windows it would, so there we use
    # SO_EXCLUSIVEADDRUSE instead.
    allow_reuse_address = sys.platform != "win32"
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], *, family: int, reserve_ipv6: bool) -> None:
        self.address_family = family
        self._reserve_ipv6 = reserve_ipv6
        self._ipv6_socket: socket.socket | None = None
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer.server_bind: its getfqdn() may wait on reverse DNS.
        _set_exclusive(self.socket)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port
        self.setup_environ()
        if self._reserve_ipv6 and socket.has_ipv6:
            # "localhost" may resolve to ::1 in the browser: make sure nobody
            # else listens there, and hold the port so nobody can start to.
            if is_listener_present(socket.AF_INET6, "::1", port):
                raise OSError(errno.EADDRINUSE, "Address already in use (on ::1)")
            try:
                self._ipv6_socket = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                _set_exclusive(self._ipv6_socket)
                self._ipv6_socket.bind(("::1", port))
            except OSError:
                self._close_ipv6()

    def _close_ipv6(self) -> None:
        if self._ipv6_socket is not None:
            self._ipv6_socket.close()
            self._ipv6_socket = None

    def server_close(self) -> None:
        self._close_ipv6()
        super().server_close()


class _CallbackApp:
    """WSGI app that recognises the real callback of one authorization request."""

    def __init__(self, success_message: str) -> None:
        self.expected_state: str | None = None
        self.expected_host: str | None = None
        self.success_message = success_message
        self.params: dict[str, str] | None = None
        self.received = threading.Event()
        self._verdict = threading.Event()
        self._failure: str | None = None
        self.responded = threading.Event()
        self._lock = threading.Lock()

    def set_verdict(self, failure: str | None) -> None:
        self._failure = failure
        self._verdict.set()

    def _state_ok(self, state: str | None) -> bool:
        expected = self.expected_state
        if not state or expected is None:
            return False
        return hmac.compare_digest(state.encode("utf-8"), expected.encode("utf-8"))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def reply(status: str, title: str, message: str) -> list[bytes]:
            body = render_page(title, message)
            start_response(
                status,
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                    ("Referrer-Policy", "no-referrer"),
                    ("X-Content-Type-Options", "nosniff"),
                ],
            )
            return [body] if environ.get("REQUEST_METHOD") != "HEAD" else []

        if self.expected_host is not None:
            host = environ.get("HTTP_HOST")
            if not host:
                return reply("400 Bad Request", "Bad request", "The request has no Host header.")
            if host.lower() != self.expected_host:
                return reply(
                    "421 Misdirected Request",
                    "Wrong address",
                    "This server only answers requests for the sign-in's own address.",
                )
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return reply("405 Method Not Allowed", "Not allowed", "Only GET is served here.")
        if (environ.get("PATH_INFO") or "/") != "/":
            return reply("404 Not Found", "Not found", "Nothing to see here.")
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if not self._state_ok(params.get("state")):
            return reply(
                "400 Bad Request",
                "Unexpected request",
                "This request does not belong to the sign-in in progress, so it was "
                "ignored. Finish signing in from the window the application opened.",
            )
        if "error" not in params and not params.get("code"):
            return reply(
                "400 Bad Request",
                "Incomplete response",
                "The authorization response carries neither a code nor an error.",
            )
        with self._lock:
            if self.params is not None:
                return reply(
                    "409 Conflict", "Already handled", "This sign-in has already been handled."
                )
            self.params = params
        self.received.set()
        try:
            if "error" in params:
                return reply(
                    "403 Forbidden",
                    "Sign-in not completed",
                    f"Authorization was not granted ({params['error'][:100]}). "
                    "You may close this window.",
                )
            self._verdict.wait(VERDICT_TIMEOUT)
            if self._failure is None and self._verdict.is_set():
                return reply("200 OK", "Signed in", self.success_message)
            return reply(
                "500 Internal Server Error",
                "Sign-in failed",
                self._failure or "The application did not finish the sign-in.",
            )
        finally:
            self.responded.set()


class LoopbackServer:
    """A running loopback redirect server; use :meth:`start`, then a ``with`` block."""

    def __init__(self, server: _Server, app: _CallbackApp) -> None:
        self._server = server
        self._app = app
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="flask-google-flow-loopback",
            daemon=True,
        )
        self._thread.start()

    @classmethod
    def start(
        cls, bind_addr: str, port: int, success_message: str, *, reserve_ipv6: bool = False
    ) -> LoopbackServer:
        """Bind ``(bind_addr, port)`` and start serving in a background thread.

        :param bind_addr: the address to listen on (``"localhost"`` means
            ``127.0.0.1``; an IPv6 literal listens on IPv6).
        :param port: the port, ``0`` for any free one.
        :param success_message: text of the page shown after a successful sign-in.
        :param reserve_ipv6: also hold ``[::1]:port`` so no other process can
            catch a browser that resolves ``localhost`` to IPv6.
        :raises LocalServerError: if the address cannot be bound (port in use,
            address not local, permission denied).
        """
        address = bind_addr.strip("[]")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        if address == "localhost":
            address = "127.0.0.1"
        app = _CallbackApp(success_message)
        try:
            if port and is_listener_present(family, address, port):
                # Fail fast even where the OS would let us share the port.
                raise OSError(errno.EADDRINUSE, "Address already in use")
            server = _Server((address, port), family=family, reserve_ipv6=reserve_ipv6)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LocalServerError(
                    errno.EADDRINUSE,
                    f"cannot listen on {format_host(bind_addr)}:{port}: the port is already "
                    "in use; close the program using it or pass another port (port=0 picks "
                    "a free one)",
                ) from None
            raise LocalServerError(
                exc.errno or errno.EINVAL,
                f"cannot listen on {format_host(bind_addr)}:{port}: "
                f"{exc.strerror or type(exc).__name__}",
            ) from None
        server.set_app(app)
        return cls(server, app)

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``port=0``)."""
        return int(self._server.server_address[1])

    def expect_state(self, state: str) -> None:
        """Accept only callbacks carrying this ``state``."""
        self._app.expected_state = state

    def expect_host(self, authority: str) -> None:
        """Answer only requests whose ``Host`` header is *authority* (DNS-rebinding defence).

        :param authority: the redirect URI's ``host:port`` as the browser sends
            it, e.g. ``localhost:8080``, ``127.0.0.1:8080`` or ``[::1]:8080``
            (compared case-insensitively).
        """
        self._app.expected_host = authority.lower()

    def wait(self, deadline: float | None) -> dict[str, str]:
        """Block until the real callback arrives and return its query parameters.

        :param deadline: a :func:`time.monotonic` value, or ``None`` to wait forever.
        :raises LocalServerTimeoutError: if the deadline passes first.
        """
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise LocalServerTimeoutError(
                    "Timed out waiting for the authorization response from the browser"
                )
            # Wake up now and then so Ctrl-C is handled promptly everywhere.
            if self._app.received.wait(1.0 if remaining is None else min(remaining, 1.0)):
                assert self._app.params is not None
                return self._app.params

    def finish(self, failure: str | None = None) -> None:
        """Let the callback request render its page: success, or ``failure`` (safe text)."""
        self._app.set_verdict(failure)

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if not self._app._verdict.is_set():
            self._app.set_verdict("The sign-in was interrupted.")
        if self._app.received.is_set():
            # Give the callback request a moment to deliver its page.
            self._app.responded.wait(2.0)
        with contextlib.suppress(Exception):
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(2.0)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
