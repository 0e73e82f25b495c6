"""``docs/examples/test_flow_against_fake_server.py`` (the "Testing your app" page), run here.

The flow layer against the fake Google served over real HTTP: the consent
page over plain http, the token endpoint over https trusted with
``fake.trust(flow.oauth2session)``.
"""

from __future__ import annotations

from .conftest import load_example

_example = load_example("test_flow_against_fake_server")
pytestmark = _example.pytestmark
test_flow_signs_in = _example.test_flow_signs_in
test_installed_app_flow_run_local_server = _example.test_installed_app_flow_run_local_server


def test_without_trust_the_token_request_is_refused(fake_google_server):
    """The control: the back channel really is https under a CA nobody else trusts."""
    import pytest

    from flask_google_flow.exceptions import ProviderUnavailableError

    flow = _example.Flow.from_client_config(
        fake_google_server.client_config(), _example.SCOPES, redirect_uri="http://127.0.0.1:8080/"
    )
    url, _ = flow.authorization_url()
    with pytest.raises(ProviderUnavailableError):
        flow.fetch_token(authorization_response=fake_google_server.approve(url))
