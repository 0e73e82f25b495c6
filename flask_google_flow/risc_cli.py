"""The ``flask-google-flow-risc`` command: register a Cross-Account Protection receiver.

Talks to Google's RISC API with a service account of the Google Cloud project
that owns the app's OAuth client (role *RISC Configuration Admin*,
``roles/riscconfigs.admin``)::

    flask-google-flow-risc register --service-account-file risc-admin.json \\
        --receiver-url https://app.example.com/risc
    flask-google-flow-risc verify --service-account-file risc-admin.json
    flask-google-flow-risc show --service-account-file risc-admin.json

``register`` sets the stream's push delivery URL and the event types (default:
every type the receiver acts on, :data:`~flask_google_flow.core.security_events.EVENT_TYPES`);
``verify`` asks Google to send a ``verification`` event (its ``state`` is
logged by the app and sent with the
:data:`~flask_google_flow.ext.signals.risc_verification` signal); ``show``
prints the current stream configuration.

Each call is authorized by a JWT the service account signs itself (no token
endpoint involved), with the audience Google's RISC guide names
(:data:`RISC_API_AUDIENCE`), made by google-auth's
:class:`google.auth.jwt.Credentials`. No key or token is ever printed.
Framework-neutral (no Flask import).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Sequence
from typing import Any

import requests

from .core.provider import check_endpoint_url
from .core.security_events import EVENT_TYPES
from .core.tls import CABundleAdapter
from .exceptions import InsecureTransportError

__all__ = [
    "DEFAULT_API_BASE_URL",
    "PUSH_DELIVERY_METHOD",
    "RISC_API_AUDIENCE",
    "RiscApiError",
    "RiscClient",
    "build_parser",
    "main",
]

DEFAULT_API_BASE_URL = "https://risc.googleapis.com/v1beta"
"""The RISC API (``stream``, ``stream:update``, ``stream:verify`` live under it)."""

RISC_API_AUDIENCE = "https://risc.googleapis.com/google.identity.risc.v1beta.RiscManagementService"
"""The ``aud`` of the self-signed bearer JWT (the same whatever the base URL)."""

PUSH_DELIVERY_METHOD = "https://schemas.openid.net/secevent/risc/delivery-method/push"
"""RFC 8935 push delivery, the only method the receiver supports."""


class RiscApiError(Exception):
    """The RISC API refused a call or could not be reached.

    :ivar status: the HTTP status, ``None`` when no answer came.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RiscClient:
    """Calls to the RISC API as one service account.

    :param service_account_file: the JSON key file of the service account.
    :param api_base_url: the API's base URL (another one for tests: the fake Google's).
    :param timeout: seconds for connecting and for reading, on every call.
    :param ca_bundle: a PEM CA bundle to verify the API's certificate with
        (tests: the fake Google's), whatever ``REQUESTS_CA_BUNDLE`` says.
    :raises RiscApiError: the key file is missing, unreadable or not a service-account key.
    :raises InsecureTransportError: the base URL is not https (plain http: loopback only).
    """

    def __init__(
        self,
        service_account_file: str,
        *,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = 10.0,
        ca_bundle: str | None = None,
    ) -> None:
        from google.auth import jwt as google_jwt

        self.api_base_url = check_endpoint_url(api_base_url, name="RISC API").rstrip("/")
        self.timeout = timeout
        try:
            self._credentials = google_jwt.Credentials.from_service_account_file(
                service_account_file, audience=RISC_API_AUDIENCE
            )
        except (OSError, ValueError, KeyError) as exc:
            raise RiscApiError(
                f"cannot use the service-account key file {service_account_file!r} "
                f"({type(exc).__name__}: a JSON key of a service account is needed)"
            ) from None
        self._session = requests.Session()
        if ca_bundle is not None:
            self._session.mount("https://", CABundleAdapter(ca_bundle))

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers: dict[str, str] = {"Accept": "application/json"}
        self._credentials.refresh(None)  # a new self-signed JWT, valid one hour
        self._credentials.apply(headers)
        url = f"{self.api_base_url}/{name}"
        try:
            response = self._session.request(
                method, url, json=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise RiscApiError(
                f"the RISC API could not be reached ({type(exc).__name__})"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not 200 <= response.status_code < 300:
            error = answer.get("error") if isinstance(answer, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise RiscApiError(
                f"the RISC API answered HTTP {response.status_code}"
                + (f": {str(message)[:300]}" if message else ""),
                response.status_code,
            )
        return answer if isinstance(answer, dict) else {}

    def register(self, receiver_url: str, events: Sequence[str]) -> dict[str, Any]:
        """``stream:update``: push events of the given types to *receiver_url*.

        :raises InsecureTransportError: the URL is not https (plain http: loopback only).
        :raises RiscApiError: the API refused (see Google's error table).
        """
        check_endpoint_url(receiver_url, name="receiver")
        body = {
            "delivery": {"delivery_method": PUSH_DELIVERY_METHOD, "url": receiver_url},
            "events_requested": list(events),
        }
        return self._call("POST", "stream:update", body)

    def verify(self, state: str) -> dict[str, Any]:
        """``stream:verify``: ask Google to push a ``verification`` event carrying *state*."""
        return self._call("POST", "stream:verify", {"state": state})

    def show(self) -> dict[str, Any]:
        """``GET stream``: the current stream configuration."""
        return self._call("GET", "stream")


def _event_uri(value: str) -> str:
    if value in EVENT_TYPES:
        return EVENT_TYPES[value]
    if value.startswith("https://"):
        return value
    known = ", ".join(EVENT_TYPES)
    raise argparse.ArgumentTypeError(f"unknown event type {value!r} (known: {known}, or a URI)")


def build_parser() -> argparse.ArgumentParser:
    """The command line parser of ``flask-google-flow-risc``."""
    parser = argparse.ArgumentParser(
        prog="flask-google-flow-risc",
        description="Register a Cross-Account Protection (RISC) receiver with Google.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--service-account-file",
        required=True,
        help="JSON key of a service account with the RISC Configuration Admin role",
    )
    common.add_argument(
        "--api-base-url", default=DEFAULT_API_BASE_URL, help="the RISC API (default: Google's)"
    )
    common.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")
    common.add_argument(
        "--ca-bundle", help="PEM CA bundle to verify the API with (default: the system's)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser(
        "register", parents=[common], help="set the receiver URL and the event types"
    )
    register.add_argument("--receiver-url", required=True, help="the app's POST /risc URL (https)")
    register.add_argument(
        "--event",
        dest="events",
        action="append",
        type=_event_uri,
        help="an event type to receive, short name or URI (repeatable; default: all)",
    )
    verify = commands.add_parser(
        "verify", parents=[common], help="ask Google to send a verification event"
    )
    verify.add_argument("--state", help="text the event carries (default: a timestamp)")
    commands.add_parser("show", parents=[common], help="print the stream configuration")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``flask-google-flow-risc``; the process exit code (0 success, 1 failure, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        client = RiscClient(
            args.service_account_file,
            api_base_url=args.api_base_url,
            timeout=args.timeout,
            ca_bundle=args.ca_bundle,
        )
        if args.command == "register":
            events = args.events or list(EVENT_TYPES.values())
            answer = client.register(args.receiver_url, events)
            print(f"registered {args.receiver_url} for {len(events)} event type(s)")
        elif args.command == "verify":
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            state = args.state or f"flask-google-flow {stamp} {secrets.token_hex(4)}"
            client.verify(state)
            print(f"verification requested; the receiver logs state {state!r}")
            return 0
        else:
            answer = client.show()
        print(json.dumps(answer, indent=2, sort_keys=True))
    except (RiscApiError, InsecureTransportError) as exc:
        print(f"flask-google-flow-risc: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
