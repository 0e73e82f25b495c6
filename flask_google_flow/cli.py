"""The ``flask-google-flow`` command: obtain user credentials from the command line.

The equivalent of ``google-oauthlib-tool``, for developers who need a refresh
token for a test or a sample::

    flask-google-flow --client-secrets client_secret.json \\
        --scope openid --scope https://www.googleapis.com/auth/drive.readonly

By default a browser opens and a loopback server catches the redirect.
Google returns a refresh token only the first time a user consents to a
client; add ``--prompt consent`` to get one on a later run (the command says
so when none came back). With
``--headless`` (SSH sessions, containers) the URL is printed and you paste back
the address the browser ends up on. The credentials are printed as JSON, or
with ``--save`` written (without the short-lived access token, readable by
you only) to ``--credentials``.

Not meant for production sign-in.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from . import flow as _flow
from .exceptions import FlowError

__all__ = [
    "APP_NAME",
    "DEFAULT_CREDENTIALS_FILENAME",
    "build_parser",
    "default_credentials_path",
    "main",
]

#: Name of the per-user configuration directory.
APP_NAME = "flask-google-flow"
#: File name of the saved credentials inside that directory.
DEFAULT_CREDENTIALS_FILENAME = "credentials.json"


def default_credentials_path() -> str:
    """Where ``--save`` writes by default: the per-user config directory.

    ``%APPDATA%\\flask-google-flow`` on Windows, ``~/Library/Application
    Support/flask-google-flow`` on macOS, ``$XDG_CONFIG_HOME/flask-google-flow``
    (default ``~/.config``) elsewhere.
    """
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(base, APP_NAME, DEFAULT_CREDENTIALS_FILENAME)


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Obtain OAuth 2.0 user credentials from Google (authorization code "
        "flow with PKCE) for testing and samples.",
    )
    parser.add_argument(
        "--client-secrets",
        required=True,
        metavar="<client_secret_json_file>",
        help="path to the OAuth 2.0 client secrets JSON file",
    )
    parser.add_argument(
        "--scope",
        action="append",
        required=True,
        metavar="<oauth2 scope>",
        help="API scope to authorize; repeat for several",
    )
    parser.add_argument("--save", action="store_true", help="save the credentials to --credentials")
    parser.add_argument(
        "--credentials",
        default=default_credentials_path(),
        metavar="<oauth2_credentials>",
        help="where --save writes the credentials (default: %(default)s)",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="no local browser: print the URL and paste back the address the browser "
        "is sent to (for SSH sessions and containers)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port of the loopback redirect URI (default: 8080, or a free one with --headless)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser; only print the URL (loopback server mode)",
    )
    parser.add_argument(
        "--prompt",
        default=None,
        metavar="PROMPT",
        help="the prompt parameter, e.g. 'consent' (asks again, so Google returns a new "
        "refresh token), 'select_account', or several separated by spaces",
    )
    parser.add_argument(
        "--login-hint",
        default=None,
        metavar="EMAIL",
        help="the account to sign in with (login_hint), e.g. you@example.com",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up waiting for the browser after this many seconds",
    )
    return parser


def _save(path: str, data: dict[str, Any]) -> None:
    """Write the credentials file: owner-only, atomically, never through a link.

    The file holds a refresh token and the client secret. It is written to a
    new private (``0600``) temporary file in the same folder and then moved
    over *path*, so an existing world-readable file or a planted symlink at
    *path* is replaced, never written into.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".credentials-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def _no_refresh_token_note(prompt: str | None) -> str:
    """Why the provider returned no refresh token, and what to do about it."""
    note = (
        f"{APP_NAME}: note: no refresh token was returned, so these credentials stop "
        "working when the access token expires (about an hour). Google returns a refresh "
        "token only the first time you consent to this client, or when asked to show the "
        "consent screen again"
    )
    if prompt and "consent" in prompt.split():
        return note + " (it was asked; check that the client is allowed offline access)."
    return note + ": run again with --prompt consent."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command.

    :param argv: the arguments (default ``sys.argv[1:]``).
    :returns: the exit status: ``0`` on success, ``1`` when the flow fails,
        ``2`` for usage errors (from :mod:`argparse`), ``130`` on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    given = {"prompt": args.prompt, "login_hint": args.login_hint}
    extra = {name: value for name, value in given.items() if value}
    try:
        app_flow = _flow.InstalledAppFlow.from_client_secrets_file(
            args.client_secrets, scopes=args.scope
        )
        if args.headless:
            creds = app_flow.run_headless(port=args.port, **extra)
        else:
            creds = app_flow.run_local_server(
                port=8080 if args.port is None else args.port,
                open_browser=not args.no_browser,
                timeout_seconds=args.timeout,
                **extra,
            )
    except (FlowError, ValueError, OSError) as exc:
        print(f"{APP_NAME}: error: {exc}", file=sys.stderr)
        return 1
    except EOFError:
        print(f"{APP_NAME}: error: no address was pasted", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{APP_NAME}: interrupted", file=sys.stderr)
        return 130

    if not creds.refresh_token:
        print(_no_refresh_token_note(args.prompt), file=sys.stderr)
    creds_data: dict[str, Any] = {
        "token": creds.token,
        "refresh_token": creds.refresh_token,
        "token_uri": creds.token_uri,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "scopes": creds.scopes,
    }
    if args.save:
        del creds_data["token"]
        _save(args.credentials, creds_data)
        print(f"credentials saved: {args.credentials}")
    else:
        print(json.dumps(creds_data))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
