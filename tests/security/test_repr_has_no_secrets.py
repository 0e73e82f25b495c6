"""No secret in the repr() of the objects a debugger, error tracker or %r log shows."""

from __future__ import annotations

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.config import resolve_settings
from flask_google_flow.ext.pending import PendingFlow
from flask_google_flow.testing import DEFAULT_CLIENT_SECRET


def test_app_state_and_settings_do_not_show_the_client_secret(app):
    state = GoogleFlow.state(app)
    assert DEFAULT_CLIENT_SECRET in str(state.client)  # it is there...
    assert DEFAULT_CLIENT_SECRET not in repr(state)  # ...but never shown
    assert DEFAULT_CLIENT_SECRET not in repr(state.settings)
    settings = resolve_settings({"GOOGLE_CLIENT_CONFIG": {"web": {"client_secret": "s3cr3t"}}}, {})
    assert "s3cr3t" not in repr(settings)


def test_pending_flow_does_not_show_verifier_or_nonce():
    flow = PendingFlow(
        code_verifier="VERIFIER-" + "v" * 40,
        nonce="NONCE-" + "n" * 16,
        next_url="/x",
        extra_scopes=(),
        redirect_uri="http://localhost/oauth2callback",
    )
    shown = repr(flow)
    assert "VERIFIER" not in shown and "NONCE" not in shown
    assert "/x" in shown
