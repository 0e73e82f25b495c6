"""Configuration of the example app from environment variables.

=============================  ==============================================
variable                       meaning
=============================  ==============================================
``SECRET_KEY``                 Flask's secret key. Required with real client
                               secrets; in development mode one is generated
                               and kept in the instance folder.
``GOOGLE_CLIENT_SECRETS_FILE`` Path of the client secrets JSON from Google
                               Cloud Console.
``GOOGLE_CLIENT_CONFIG``       The same JSON, inline.
``GOOGLE_FLOW_DISCOVERY_URL``  Another OpenID provider's discovery document.
``GOOGLE_FLOW_CA_BUNDLE``      PEM CA bundle trusting that provider's https
                               (e.g. the one ``python -m
                               flask_google_flow.testing`` prints).
``GOOGLE_*``                   Any other option of flask-google-flow, by its
                               config key (``GOOGLE_FLOW_HOSTED_DOMAIN``...).
``REDIS_URL``                  Keep sessions in Redis (Flask-Session) instead
                               of the embedded filesystem store.
``EXAMPLE_DATABASE``           SQLite file of stored credentials (default:
                               ``instance/example_app.sqlite3``).
=============================  ==============================================

Without ``GOOGLE_CLIENT_SECRETS_FILE`` and ``GOOGLE_CLIENT_CONFIG`` the app runs
in development mode (:mod:`example_app.devmode`).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping

from flask import Flask

_ENV_PREFIX = "GOOGLE_"
_SECRET_KEY_FILE = "dev_secret_key"


def load_environment(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """Copy ``SECRET_KEY``, ``REDIS_URL``, ``EXAMPLE_DATABASE`` and every ``GOOGLE_*`` variable.

    ``GOOGLE_*`` values are kept as strings (flask-google-flow parses numbers,
    booleans, space-separated scopes and the client-config JSON itself), except
    that a value starting with ``[`` is read as a JSON list (e.g. scopes).

    :raises ValueError: a ``[...]`` value is not valid JSON; the message names the variable.
    """
    environ = os.environ if environ is None else environ
    for name in ("SECRET_KEY", "REDIS_URL", "EXAMPLE_DATABASE"):
        if environ.get(name):
            app.config[name] = environ[name]
    for name, value in environ.items():
        if not name.startswith(_ENV_PREFIX) or value == "":
            continue
        if value.lstrip().startswith("["):
            try:
                app.config[name] = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"{name} is not a valid JSON list ({exc})") from None
        else:
            app.config[name] = value


def apply_session_backend(app: Flask) -> None:
    """Use Redis for sessions when ``REDIS_URL`` is set (otherwise the embedded store).

    The client fails fast (:func:`~flask_google_flow.ext.resilience.fail_fast_redis`):
    while Redis is down a request gets the 503 page in about a second instead
    of holding its worker through redis-py's ten seconds of retries.
    """
    url = app.config.get("REDIS_URL")
    if url and not app.config.get("SESSION_TYPE"):
        from flask_google_flow.ext.resilience import fail_fast_redis

        app.config["SESSION_TYPE"] = "redis"
        app.config["SESSION_REDIS"] = fail_fast_redis(url)


def needs_dev_mode(app: Flask) -> bool:
    """Whether no Google client secrets are configured (so the fake Google is used)."""
    return not (
        app.config.get("GOOGLE_CLIENT_SECRETS_FILE") or app.config.get("GOOGLE_CLIENT_CONFIG")
    )


def require_secret_key(app: Flask) -> None:
    """Make sure there is a ``SECRET_KEY``.

    In development mode a random key is generated once and kept in the
    instance folder (readable by the owner only), so sessions survive restarts.

    :raises RuntimeError: no ``SECRET_KEY`` with real client secrets.
    """
    if app.config.get("SECRET_KEY"):
        return
    if not app.config.get("EXAMPLE_DEV_MODE"):
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment, e.g. "
            "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, _SECRET_KEY_FILE)
    try:
        with open(path, encoding="ascii") as file:
            key = file.read().strip()
    except FileNotFoundError:
        key = ""
    if not key:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key + "\n")
    app.config["SECRET_KEY"] = key
