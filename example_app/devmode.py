"""Development mode: sign in against the fake Google when no client secrets are configured.

The fake Google from :mod:`flask_google_flow.testing` is started once per
process, as a real server on ``127.0.0.1`` (free ports) in background
threads, with a few demo accounts: its sign-in page over plain http (what the
browser visits: no certificate warning), its back channel (token, certs,
userinfo, revoke, discovery) over https with a throw-away CA. The app is
configured against it — its discovery URL, client config and CA bundle
(``GOOGLE_FLOW_CA_BUNDLE``) — and every page shows a banner saying so.

The fake accepts registered redirect URIs only. The app's callback URL depends
on how the browser reaches it (``http://127.0.0.1:5000`` or
``http://localhost:5000``, any port), so it is registered with the fake on each
request — for loopback hosts only.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from flask import Flask, request, url_for

from flask_google_flow import GoogleFlow

if TYPE_CHECKING:
    from flask_google_flow.testing import FakeGoogle

logger = logging.getLogger(__name__)

DEMO_ACCOUNTS = (
    ("alice@example.com", "Alice Example"),
    ("bob@example.com", "Bob Example"),
)
"""Accounts offered on the fake consent page (besides the fake's default one)."""

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
_lock = threading.Lock()
_fake: FakeGoogle | None = None


def fake_google() -> FakeGoogle:
    """The process's fake Google server, started on first use."""
    global _fake
    with _lock:
        if _fake is None:
            from flask_google_flow.testing import FakeGoogle

            fake = FakeGoogle()
            for email, name in DEMO_ACCOUNTS:
                fake.add_account(email, name=name)
            fake.start("127.0.0.1", 0)
            logger.warning(
                "Development mode: fake Google signing in at %s, back channel %s "
                "(no Google account needed)",
                fake.front_channel_url,
                fake.back_channel_url,
            )
            _fake = fake
        return _fake


def configure(app: Flask) -> None:
    """Point *app* at the fake Google and mark it as being in development mode."""
    fake = fake_google()
    client_config = fake.client_config()
    # No redirect_uris in the app's copy: the app then builds its callback URL
    # from the request's host, which registered_callback() registers with the fake.
    client_config["web"]["redirect_uris"] = []
    app.config.update(
        EXAMPLE_DEV_MODE=True,
        GOOGLE_CLIENT_CONFIG=client_config,
        GOOGLE_FLOW_DISCOVERY_URL=fake.discovery_url,
        GOOGLE_FLOW_CA_BUNDLE=fake.ca_bundle,
        # The fake's stand-in for Google's GIS script: a working button and One Tap.
        GOOGLE_FLOW_GSI_SCRIPT_URL=fake.gsi_script_url,
        GOOGLE_FLOW_RISC_CONFIGURATION_URL=fake.risc.configuration_url,
    )
    app.before_request(register_callback)


def register_callback() -> None:
    """Register this request's callback URL with the fake, if the host is loopback."""
    if request.host.rsplit(":", 1)[0] not in _LOOPBACK_HOSTS or request.scheme != "http":
        return
    endpoint = GoogleFlow.state().endpoint("oauth2callback")
    fake_google().register_redirect_uri(url_for(endpoint, _external=True))
