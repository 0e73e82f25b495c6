"""Run the fake Google in the foreground: ``python -m flask_google_flow.testing``.

For trying an app by hand, multi-process tests and the flow layer. It listens
on two loopback ports: the sign-in (consent) page over plain http on
``--port`` — what the browser visits — and the back channel (token, certs,
userinfo, revoke, discovery) over https on ``--tls-port``, with a throw-away
CA made for this run. It prints the exact settings an app needs (client
config JSON, redirect URIs, discovery URL, CA bundle, and the lines to paste
into a shell), then a line ``READY <issuer URL>``, and serves until
interrupted (Ctrl+C or SIGTERM). The CA and its files exist for this run
only: after a restart, paste the settings again.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from ..core.hosts import is_loopback_host
from .fake_google import (
    DEFAULT_ACCOUNT_EMAIL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    FakeGoogle,
)

WEB_REDIRECT_URIS = (
    "http://127.0.0.1:5000/oauth2callback",
    "http://localhost:5000/oauth2callback",
)
"""Default redirect URIs of a web client: an app run with ``flask run`` on this machine
(the example app's callback), under either loopback name."""

INSTALLED_REDIRECT_URIS = ("http://localhost",)
"""Default redirect URIs of an installed client, as in the JSON Google hands out
(the fake, like Google, accepts any ``http://127.0.0.1`` / ``http://localhost`` port)."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m flask_google_flow.testing",
        description=(
            "Run a fake Google authorization server for tests and local development "
            "(never for production). The browser-facing sign-in page is served over "
            "plain http on --port, the back channel an app calls (token, certs, "
            "userinfo, revoke, discovery) over https on --tls-port with a throw-away "
            "CA. The settings to give your app are printed at start."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="loopback address to bind: 127.0.0.1 (default), ::1 or localhost, the names "
        "its https certificate covers",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="port of the sign-in pages, plain http (default 0: a free one)",
    )
    parser.add_argument(
        "--tls-port",
        type=int,
        default=None,
        help="port of the https back channel (default: --port + 1, or a free one when --port is 0)",
    )
    parser.add_argument(
        "--client-id",
        default=DEFAULT_CLIENT_ID,
        help="the OAuth client id the fake registers and your app sends (default: %(default)s)",
    )
    parser.add_argument(
        "--client-secret",
        default=DEFAULT_CLIENT_SECRET,
        help="the client's secret, checked at the token endpoint (default: a fixed test "
        "value, %(default)s)",
    )
    parser.add_argument(
        "--client-type",
        choices=("web", "installed"),
        default="web",
        help="'web' (default): a server-side app such as a Flask app, exact redirect URIs; "
        "'installed': a desktop or command-line app (InstalledAppFlow), any "
        "http://127.0.0.1 or http://localhost redirect URI on any port is accepted, "
        "as Google does",
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        metavar="URI",
        help="register a redirect URI (repeatable). Default for a web client: "
        + " and ".join(WEB_REDIRECT_URIS)
        + " (an app run with `flask run` on this machine); for an installed client: "
        + INSTALLED_REDIRECT_URIS[0],
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="EMAIL",
        help="add an account by email (repeatable; the default account "
        f"{DEFAULT_ACCOUNT_EMAIL} always exists)",
    )
    parser.add_argument(
        "--non-interactive",
        action="store_true",
        help="approve authorization requests at once (no consent page)",
    )
    parser.add_argument(
        "--client-config-file",
        metavar="PATH",
        help="also write the client-secrets JSON here (GOOGLE_CLIENT_SECRETS_FILE)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def default_redirect_uris(client_type: str) -> tuple[str, ...]:
    """The redirect URIs registered when ``--redirect-uri`` is not given."""
    return INSTALLED_REDIRECT_URIS if client_type == "installed" else WEB_REDIRECT_URIS


def app_settings(fake: FakeGoogle) -> dict[str, str]:
    """The settings (environment variables / Flask config keys) of an app using the running fake.

    :returns: ``GOOGLE_CLIENT_CONFIG`` (compact JSON), ``GOOGLE_FLOW_DISCOVERY_URL``
        and ``GOOGLE_FLOW_CA_BUNDLE``, in that order.
    """
    return {
        "GOOGLE_CLIENT_CONFIG": json.dumps(fake.client_config(), separators=(",", ":")),
        "GOOGLE_FLOW_DISCOVERY_URL": fake.discovery_url,
        "GOOGLE_FLOW_CA_BUNDLE": fake.ca_bundle,
    }


def settings_text(fake: FakeGoogle, *, client_config_file: str | None = None) -> str:
    """What the command prints at start: where the fake lives and what to configure."""
    endpoints = fake.endpoints
    client = fake.default_client
    config = json.dumps(fake.client_config(), indent=2)
    lines = [
        "Fake Google (testing only, never for production)",
        f"  sign-in page (browser, http):  {endpoints.authorization}",
        f"  back channel (https, issuer):  {fake.back_channel_url}",
        f"  discovery URL:                 {fake.discovery_url}",
        f"  token endpoint:                {endpoints.token}",
        f"  CA bundle (trusts the https):  {fake.ca_bundle}",
        "    (the public CAs plus this run's throw-away CA, which can sign for loopback names",
        "    only; deleted when the server stops)",
        f"  client ({client.client_type}):  {client.client_id}",
        "  redirect URIs:",
        *(f"    {uri}" for uri in client.redirect_uris),
    ]
    if client.client_type == "installed":
        lines.append("    (and any http://127.0.0.1 or http://localhost port, as Google allows)")
    lines += ["", "Client config (Google's client_secret.json format):", config]
    if client_config_file:
        lines.append(f"(written to {client_config_file})")
    lines += [
        "",
        "# Settings for a Flask app with flask-google-flow (shell lines to paste; the same",
        "# names are app.config keys). Your app also needs its own SECRET_KEY.",
    ]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in app_settings(fake).items()]
    lines += [
        "# Without discovery, name the endpoints instead of GOOGLE_FLOW_DISCOVERY_URL:",
        f"#   GOOGLE_FLOW_ISSUER={endpoints.issuer}",
        f"#   GOOGLE_FLOW_AUTHORIZATION_ENDPOINT={endpoints.authorization}",
        f"#   GOOGLE_FLOW_TOKEN_ENDPOINT={endpoints.token}",
        f"#   GOOGLE_FLOW_JWKS_URI={endpoints.jwks}",
        f"#   GOOGLE_FLOW_REVOCATION_ENDPOINT={endpoints.revocation}",
        f"#   GOOGLE_FLOW_USERINFO_ENDPOINT={endpoints.userinfo}",
        "",
        "# The flow layer (Flow / InstalledAppFlow) in another process: load the client",
        "# config above (from_client_config / from_client_secrets_file) and trust the CA:",
        f"#   REQUESTS_CA_BUNDLE={shlex.quote(fake.ca_bundle)} python your_script.py",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server in the foreground until interrupted.

    :param argv: command-line arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_loopback_host(args.host):
        parser.error(
            f"--host {args.host}: the fake Google listens on loopback addresses only "
            "(127.0.0.1, ::1, localhost), which its https certificate covers"
        )
    tls_port = args.tls_port
    if tls_port is None:
        tls_port = args.port + 1 if args.port else 0
    fake = FakeGoogle(
        client_id=args.client_id,
        client_secret=args.client_secret,
        client_type=args.client_type,
        redirect_uris=args.redirect_uris or default_redirect_uris(args.client_type),
        interactive=not args.non_interactive,
    )
    for email in args.account:
        fake.add_account(email)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        fake.start(args.host, args.port, quiet=not args.verbose, tls_port=tls_port)
    except OSError as exc:
        parser.exit(
            2,
            f"cannot listen on {args.host} ports {args.port} (http) and {tls_port} (https): "
            f"{exc.strerror or exc}; choose others with --port / --tls-port\n",
        )
    try:
        if args.client_config_file:
            with open(args.client_config_file, "w", encoding="utf-8") as file:
                file.write(json.dumps(fake.client_config(), indent=2) + "\n")
        print(settings_text(fake, client_config_file=args.client_config_file))
        print(f"READY {fake.base_url}", flush=True)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
