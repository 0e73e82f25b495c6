"""The test app on one backend: built directly (:func:`build_app`) or under gunicorn from env.

Under gunicorn (``tests.backends.load_app:create_app()``) it reads
``GF_BACKEND`` (``files``, ``redis``, ``memcached``, ``postgresql``,
``mariadb``, ``sqlite``), ``GF_BACKEND_URL``, ``GF_FOLDER`` (files and
SQLite), ``GF_STORE_LOG`` (one line per ``store`` call: the account's
``sub``), plus ``SECRET_KEY``, ``GOOGLE_CLIENT_CONFIG``, ``GOOGLE_FLOW_CA_BUNDLE`` and
``GOOGLE_FLOW_DISCOVERY_URL``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, session

from flask_google_flow import GoogleFlow

from . import servers


def build_app(
    backend: str,
    *,
    url: str,
    folder: Path,
    client_config: Mapping[str, Any],
    discovery_url: str,
    ca_bundle: str,
    on_store: Callable[[Any, Mapping[str, Any]], None],
    secret_key: str = "backend-test-secret",
) -> Flask:
    """An app on *backend* whose ``store`` callback is *on_store*; ``/`` and ``/whoami`` too."""
    app = Flask(__name__, instance_path=str(folder / "instance"))
    app.config.update(
        SECRET_KEY=secret_key,
        GOOGLE_CLIENT_CONFIG=dict(client_config),
        GOOGLE_FLOW_DISCOVERY_URL=discovery_url,
        GOOGLE_FLOW_CA_BUNDLE=ca_bundle,  # the fake's https back channel
    )
    servers.configure(app, backend, url=url, folder=folder)
    extension = GoogleFlow()
    extension.store(on_store)
    extension.init_app(app)

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/whoami")
    def whoami() -> str:
        user = session.get("_google_flow_user")
        return f"user {user['claims'].get('email') if user else '-'}"

    return app


def create_app() -> Flask:
    """The app on ``GF_BACKEND``; ``store`` appends each sign-in's ``sub`` to ``GF_STORE_LOG``."""
    log_path = os.environ["GF_STORE_LOG"]

    def store(credentials: Any, id_info: Mapping[str, Any]) -> None:
        # One short O_APPEND write per line: lines of concurrent workers never mix.
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{id_info['sub']}\n".encode())
        finally:
            os.close(fd)

    return build_app(
        os.environ["GF_BACKEND"],
        url=os.environ.get("GF_BACKEND_URL", ""),
        folder=Path(os.environ["GF_FOLDER"]),
        client_config=json.loads(os.environ["GOOGLE_CLIENT_CONFIG"]),
        discovery_url=os.environ["GOOGLE_FLOW_DISCOVERY_URL"],
        ca_bundle=os.environ["GOOGLE_FLOW_CA_BUNDLE"],
        on_store=store,
        secret_key=os.environ["SECRET_KEY"],
    )
