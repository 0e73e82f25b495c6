"""Refresh outcomes must never cross from one user to another."""

from __future__ import annotations

from google.oauth2.credentials import Credentials

from flask_google_flow import GoogleFlow
from tests.sign_in_helpers import sign_in


def test_users_without_a_stored_access_token_do_not_adopt_each_others_refresh(
    make_app, fake, clock
):
    """An app that keeps only the refresh token in its database (a documented pattern:
    ``store`` records the refresh token, ``load`` rebuilds ``Credentials`` from it).
    Alice's API call refreshes; Bob's call must not be sent with Alice's token."""
    fake.add_account("alice@example.com")
    fake.add_account("bob@example.com")
    client_cfg = fake.default_client
    refresh_tokens: dict[str, str] = {}
    google_flow = GoogleFlow(clock=clock)

    @google_flow.store
    def save(credentials, id_info):
        if credentials.refresh_token:
            refresh_tokens[id_info["sub"]] = credentials.refresh_token

    @google_flow.load
    def load(sub):
        token = refresh_tokens.get(sub)
        if token is None:
            return None
        return Credentials(
            token=None,
            refresh_token=token,
            token_uri=fake.endpoints.token,
            client_id=client_cfg.client_id,
            client_secret=client_cfg.client_secret,
        )

    app = make_app(extension=google_flow)
    alice, bob = app.test_client(), app.test_client()
    assert sign_in(alice, fake, account="alice@example.com").status_code == 302
    assert sign_in(bob, fake, account="bob@example.com").status_code == 302

    assert alice.get("/api").get_json()["body"]["email"] == "alice@example.com"
    # Bob's own refresh must run; he must see his own account, not Alice's.
    assert bob.get("/api").get_json()["body"]["email"] == "bob@example.com"
