"""The flask-google-flow example app: "Sign in with Google", a profile, Google API calls.

Run it from the repository root::

    python -m pip install -e . && flask --app example_app run

With no Google client secrets configured it runs in **development mode**: it
starts the fake Google of :mod:`flask_google_flow.testing` on ``127.0.0.1``
and signs in against it (a banner on every page says so). With real client
secrets (``GOOGLE_CLIENT_SECRETS_FILE`` or ``GOOGLE_CLIENT_CONFIG``) it talks
to the real Google. See :mod:`example_app.settings` for every environment
variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from flask_google_flow import GoogleFlow

from . import db, devmode, logs, settings

DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
"""The extra scope of the Drive page, asked for only when that page is visited."""

google_flow = GoogleFlow()
"""The extension, shared by every app :func:`create_app` makes."""

db.register_callbacks(google_flow)


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Build the example app.

    :param config: config keys that win over the environment (tests use it).
    :param instance_path: the instance folder (default: ``instance/`` next to the package).
    :raises RuntimeError: real client secrets are configured but ``SECRET_KEY`` is not.
    """
    logs.install()
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(
        GOOGLE_SCOPES=["openid", "email", "profile"],
        GOOGLE_FLOW_EXTRA_SCOPES=[DRIVE_READONLY],
        EXAMPLE_DEV_MODE=False,
    )
    settings.load_environment(app)
    if config:
        app.config.update(config)
    settings.apply_session_backend(app)
    if settings.needs_dev_mode(app):
        devmode.configure(app)
    settings.require_secret_key(app)

    db.init_app(app)
    google_flow.init_app(app)

    from .views import bp, register_error_handlers

    app.register_blueprint(bp)
    register_error_handlers(app)
    return app
