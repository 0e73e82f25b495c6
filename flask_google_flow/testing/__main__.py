"""Run the fake Google in the foreground: ``python -m flask_google_flow.testing``.

For multi-process tests and the example app's development mode. Prints the
base URL, the discovery URL and the client-secrets JSON (also written to
``--client-config-file`` if given), then a line ``READY <base_url>``, and serves
until interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence

from .fake_google import (
    DEFAULT_ACCOUNT_EMAIL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeGoogle,
)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m flask_google_flow.testing",
        description="Run a fake Google authorization server for tests (never for production).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--client-type", choices=("web", "installed"), default="web")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        dest="redirect_uris",
        help=f"register a redirect URI (repeatable; default {DEFAULT_REDIRECT_URI})",
    )
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        help="add an account by email (repeatable; the default account "
        f"{DEFAULT_ACCOUNT_EMAIL} always exists)",
    )
    parser.add_argument(
        "--non-interactive",
        action="store_true",
        help="approve authorization requests at once (no consent page)",
    )
    parser.add_argument("--client-config-file", help="also write the client-secrets JSON here")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server in the foreground until interrupted.

    :param argv: command-line arguments (default: ``sys.argv[1:]``).
    :returns: the exit status.
    """
    args = build_parser().parse_args(argv)
    fake = FakeGoogle(
        client_id=args.client_id,
        client_secret=args.client_secret,
        client_type=args.client_type,
        redirect_uris=args.redirect_uris or (DEFAULT_REDIRECT_URI,),
        interactive=not args.non_interactive,
    )
    for email in args.account:
        fake.add_account(email)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    fake.start(args.host, args.port, quiet=not args.verbose)
    try:
        config = json.dumps(fake.client_config(), indent=2)
        if args.client_config_file:
            with open(args.client_config_file, "w", encoding="utf-8") as file:
                file.write(config + "\n")
        print(f"Fake Google (testing) at {fake.base_url}")
        print(f"Discovery: {fake.discovery_url}")
        print(f"Client config:\n{config}")
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
