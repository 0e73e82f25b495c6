"""Get user credentials from interactive environments (notebooks, shells).

A drop-in replacement for ``google_auth_oauthlib.interactive``.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence

import google.oauth2.credentials

from . import flow
from .core import loopback

__all__ = [
    "DEFAULT_PORTS_TO_TRY",
    "LOCALHOST",
    "find_open_port",
    "get_user_credentials",
    "is_port_open",
]

#: The host the redirect server listens on.
LOCALHOST = "localhost"
#: How many ports :func:`find_open_port` tries when no ``stop`` is given.
DEFAULT_PORTS_TO_TRY = 100

_GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
_GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def is_port_open(port: int) -> bool:
    """Whether ``port`` on localhost is free for the redirect server.

    A port is "open" when it can be bound on ``127.0.0.1`` and nothing
    listens on it on ``::1`` either.

    :param port: the TCP port to check.
    """
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((LOCALHOST, port))
            sock.listen(1)
        except OSError:
            return False
    if socket.has_ipv6:
        return not loopback.is_listener_present(socket.AF_INET6, "::1", port)
    return True


def find_open_port(start: int = 8080, stop: int | None = None) -> int | None:
    """Find a free port in ``range(start, stop)``.

    :param start: the first port to try.
    :param stop: one past the last port to try; by default ``start`` + 100.
    :returns: the first free port, or ``None`` if there is none.
    """
    if not stop:
        stop = start + DEFAULT_PORTS_TO_TRY
    for port in range(start, stop):
        if is_port_open(port):
            return port
    return None


def get_user_credentials(
    scopes: Sequence[str],
    client_id: str,
    client_secret: str,
    minimum_port: int = 8080,
    maximum_port: int | None = None,
) -> google.oauth2.credentials.Credentials:
    """Sign the current user in with Google in a browser and return their credentials.

    Runs :meth:`~flask_google_flow.flow.InstalledAppFlow.run_local_server` on
    the first free localhost port in ``[minimum_port, maximum_port)`` against
    Google's endpoints. Create the client ID (type *Desktop app*) on the
    `Credentials page <https://console.cloud.google.com/apis/credentials>`_.

    :param scopes: the scopes to request.
    :param client_id: the OAuth client ID.
    :param client_secret: the OAuth client secret.
    :param minimum_port: the first port to try for the redirect server.
    :param maximum_port: one past the last port to try (default: 100 ports).
    :returns: the user's credentials.
    :raises ConnectionError: if no port in the range is free.
    """
    client_config = {
        "installed": {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": _GOOGLE_AUTH_URI,
            "token_uri": _GOOGLE_TOKEN_URI,
        }
    }
    app_flow = flow.InstalledAppFlow.from_client_config(client_config, scopes=scopes)
    port = find_open_port(start=minimum_port, stop=maximum_port)
    if not port:
        raise ConnectionError("Could not find open port.")
    return app_flow.run_local_server(host=LOCALHOST, port=port)
