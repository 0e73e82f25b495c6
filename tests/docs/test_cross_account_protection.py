"""The Cross-Account Protection guide's example, against the in-process fake Google."""

from __future__ import annotations

from .conftest import CALLBACK, load_example, sign_in


def test_the_example_locks_a_hijacked_account(fake, tmp_path):
    module = load_example("cross_account_protection")
    app = module.create_app(
        {
            "SECRET_KEY": "x",
            "GOOGLE_CLIENT_CONFIG": fake.client_config([CALLBACK]),
            "SESSION_TYPE": None,  # the embedded store in this test, no Redis server
            "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
        }
    )
    client = app.test_client()
    assert sign_in(client, fake).status_code == 302
    sub = fake.default_account.sub
    token = fake.risc_event("account-disabled", sub=sub, reason="hijacking")
    assert app.test_client().post("/risc", data=token).status_code == 202
    assert sub in module.LOCKED
    client.get("/")  # the browser's next request is signed out
    with client.session_transaction() as session:
        assert "_google_flow_user" not in session
    bulk = fake.risc_event("account-disabled", sub="other", reason="bulk-account")
    assert app.test_client().post("/risc", data=bulk).status_code == 202
    assert "other" not in module.LOCKED
