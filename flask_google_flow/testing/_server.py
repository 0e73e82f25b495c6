"""Real-server mode: the fake's WSGI app on a loopback port in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietRequestHandler(WSGIRequestHandler):
    """A request handler that does not log every request."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        """Log nothing."""


class BackgroundServer:
    """A threaded werkzeug server running a WSGI app until :meth:`stop`.

    :param app: the WSGI application.
    :param host: the address to bind.
    :param port: the port; ``0`` picks a free one.
    :param quiet: do not log each request.
    """

    def __init__(
        self,
        app: Callable[..., object],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
    ) -> None:
        handler = _QuietRequestHandler if quiet else WSGIRequestHandler
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
        )
        self._server.daemon_threads = True
        self.host = host
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # so stop() returns at once
            name=f"fake-google:{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """``http://host:port`` (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Start serving in the background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
