"""The app the load test runs under gunicorn, on the backend named by its environment.

``GF_BACKEND`` (``files``, ``redis``, ``memcached``, ``postgresql``, ``mariadb``,
``sqlite``), ``GF_BACKEND_URL``, ``GF_FOLDER`` (files and SQLite),
``GF_STORE_LOG`` (one line per ``store`` call: the account's ``sub``), plus
``SECRET_KEY``, ``GOOGLE_CLIENT_CONFIG`` and ``GOOGLE_FLOW_DISCOVERY_URL``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask

from flask_google_flow import GoogleFlow

from . import servers


def create_app() -> Flask:
    """The app on ``GF_BACKEND``; ``store`` appends each sign-in's ``sub`` to ``GF_STORE_LOG``."""
    folder = Path(os.environ["GF_FOLDER"])
    app = Flask(__name__, instance_path=str(folder / "instance"))
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        GOOGLE_CLIENT_CONFIG=json.loads(os.environ["GOOGLE_CLIENT_CONFIG"]),
        GOOGLE_FLOW_DISCOVERY_URL=os.environ["GOOGLE_FLOW_DISCOVERY_URL"],
    )
    servers.configure(
        app, os.environ["GF_BACKEND"], url=os.environ.get("GF_BACKEND_URL", ""), folder=folder
    )
    extension = GoogleFlow()
    log_path = os.environ["GF_STORE_LOG"]

    @extension.store
    def store(credentials, id_info):
        # One short O_APPEND write per line: lines of concurrent workers never mix.
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{id_info['sub']}\n".encode())
        finally:
            os.close(fd)

    extension.init_app(app)

    @app.get("/")
    def index() -> str:
        return "ok"

    return app
