"""Real-server mode: a WSGI app on a loopback port in a background thread, http or https."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler


class _QuietRequestHandler(WSGIRequestHandler):
    """A request handler that does not log every request."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        """Log nothing."""


class _TLSServer(ThreadedWSGIServer):
    """A threaded werkzeug server speaking TLS, the handshake done by each connection's thread.

    werkzeug's own ``ssl_context`` wraps the listening socket, so every TLS
    handshake runs in the accepting thread and one client that connects and
    says nothing stalls every other. Here the accepted socket is wrapped
    without a handshake; it happens on the first read, in the request thread.
    """

    def __init__(
        self,
        host: str,
        port: int,
        app: Any,
        handler: type[WSGIRequestHandler],
        tls: ssl.SSLContext,
        fd: int | None = None,
    ) -> None:
        super().__init__(host, port, app, handler, fd=fd)
        self.tls = tls
        self.ssl_context = tls  # werkzeug's request handler reads it: wsgi.url_scheme https

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection and wrap it in TLS (handshake deferred)."""
        connection, address = self.socket.accept()
        wrapped = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return wrapped, address


class BackgroundServer:
    """A threaded werkzeug server running a WSGI app until :meth:`stop`.

    :param app: the WSGI application.
    :param host: the address to bind.
    :param port: the port; ``0`` picks a free one.
    :param quiet: do not log each request.
    :param tls: serve https with this server-side context (default: plain http).
    """

    def __init__(
        self,
        app: Callable[..., object],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        handler = _QuietRequestHandler if quiet else WSGIRequestHandler
        # Bound here, so a busy port raises OSError (werkzeug would print and sys.exit).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, port), family=family, backlog=128) as listening:
            fd = listening.fileno()
            if tls is None:
                self._server: ThreadedWSGIServer = ThreadedWSGIServer(
                    host, port, app, handler, fd=fd
                )
            else:
                self._server = _TLSServer(host, port, app, handler, tls, fd=fd)
        self._server.daemon_threads = True
        self.host = host
        self.scheme = "http" if tls is None else "https"
        self.port: int = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # so stop() returns at once
            name=f"fake-google:{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Start serving in the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
