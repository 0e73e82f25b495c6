"""What each Cross-Account Protection event does: sessions ended, credentials deleted, signals."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from flask_google_flow.ext import signals
from tests.sign_in_helpers import sign_in

SET_TYPE = {"Content-Type": "application/secevent+jwt"}
SIGNALS = {
    "sessions-revoked": signals.sessions_revoked,
    "tokens-revoked": signals.tokens_revoked,
    "token-revoked": signals.token_revoked,
    "account-disabled": signals.account_disabled,
    "account-enabled": signals.account_enabled,
    "account-credential-change-required": signals.account_credential_change_required,
    "verification": signals.risc_verification,
}


@pytest.fixture
def sent() -> Any:
    """``(signal name, kwargs)`` of every RISC signal sent during the test."""
    calls: list[tuple[str, dict[str, Any]]] = []
    receivers = []
    for name, signal in {**SIGNALS, "received": signals.security_event_received}.items():

        def record(sender: Any, _name: str = name, **kwargs: Any) -> None:
            calls.append((_name, kwargs))

        signal.connect(record)
        receivers.append((signal, record))
    yield calls
    for signal, record in receivers:
        signal.disconnect(record)


@pytest.fixture
def users(app, fake):
    """Two users signed in: ``alice`` (the default account) and ``bob``, each a browser."""
    fake.add_account("bob@example.com")
    alice, bob = app.test_client(), app.test_client()
    assert sign_in(alice, fake).status_code == 302
    assert sign_in(bob, fake, account="bob@example.com").status_code == 302
    return {
        "alice": (alice, fake.default_account.sub),
        "bob": (bob, fake.accounts["bob@example.com"].sub),
    }


def push(app, token):
    response = app.test_client().post("/risc", data=token, headers=SET_TYPE)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response


def signed_in(client) -> bool:
    return client.get("/me").json["user"] is not None


def test_sessions_revoked_ends_only_that_users_sessions(app, fake, users, recorder, sent):
    alice, alice_sub = users["alice"]
    bob, _ = users["bob"]
    second_alice = app.test_client()  # another browser of the same user
    sign_in(second_alice, fake)
    push(app, fake.risc_event("sessions-revoked", sub=alice_sub))
    assert not signed_in(alice)
    assert not signed_in(second_alice)
    assert signed_in(bob)
    assert recorder.deleted == []  # stored (offline) credentials stay
    assert alice_sub in recorder.stored
    assert ("sessions-revoked", {"sub": alice_sub, "event": _any, "jti": _any}) in sent


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


_any = _Any()


def test_a_sign_in_after_the_event_stays_signed_in(app, fake, users):
    alice, alice_sub = users["alice"]
    push(app, fake.risc_event("sessions-revoked", sub=alice_sub))
    assert not signed_in(alice)
    sign_in(alice, fake)
    assert signed_in(alice)
    assert signed_in(alice)  # and stays so on later requests


def test_the_ended_session_gets_a_new_id_and_is_emptied(app, fake, users):
    alice, alice_sub = users["alice"]
    before = alice.get_cookie("session").value
    push(app, fake.risc_event("sessions-revoked", sub=alice_sub))
    alice.get("/me")
    cookie = alice.get_cookie("session")
    assert cookie is None or cookie.value != before


def test_tokens_revoked_ends_sessions_and_deletes_credentials(app, fake, users, recorder, sent):
    alice, alice_sub = users["alice"]
    bob, bob_sub = users["bob"]
    push(app, fake.risc_event("tokens-revoked", sub=alice_sub))
    assert not signed_in(alice)
    assert signed_in(bob)
    assert recorder.deleted == [alice_sub]
    assert alice_sub not in recorder.stored and bob_sub in recorder.stored
    assert [name for name, _ in sent] == ["tokens-revoked", "received"]


@pytest.mark.parametrize("alg", ["hash_base64_sha512_sha512", "prefix"])
def test_token_revoked_for_our_refresh_token(app, fake, users, recorder, sent, alg):
    alice, alice_sub = users["alice"]
    refresh_token = recorder.stored[alice_sub].refresh_token
    assert refresh_token
    push(
        app, fake.risc_event("token-revoked", refresh_token=refresh_token, token_identifier_alg=alg)
    )
    assert not signed_in(alice)
    assert signed_in(users["bob"][0])
    assert recorder.deleted == [alice_sub]
    name, kwargs = sent[0]
    assert name == "token-revoked"
    assert kwargs["sub"] == alice_sub
    assert kwargs["token_identifier_alg"] == alg
    assert kwargs["token"] != refresh_token


def test_token_revoked_hash_in_base64url_without_padding(app, fake, users, recorder):
    _alice, alice_sub = users["alice"]
    refresh_token = recorder.stored[alice_sub].refresh_token
    from flask_google_flow.core.security_events import refresh_token_identifiers

    hashed = dict(refresh_token_identifiers(refresh_token))["hash_base64_sha512_sha512"]
    subject = {
        "subject_type": "oauth_token",
        "token_type": "refresh_token",
        "token_identifier_alg": "hash_base64_sha512_sha512",
        "token": hashed.replace("+", "-").replace("/", "_").rstrip("="),
    }
    push(app, fake.risc_event("token-revoked", subject=subject))
    assert recorder.deleted == [alice_sub]


def test_token_revoked_for_a_token_we_do_not_know(app, fake, users, recorder, sent):
    alice, _ = users["alice"]
    push(app, fake.risc_event("token-revoked", refresh_token="1//0-someone-elses-token"))
    assert signed_in(alice)
    assert recorder.deleted == []
    assert sent[0][0] == "token-revoked" and sent[0][1]["sub"] is None


def test_token_revoked_for_an_access_token_does_nothing(app, fake, users, recorder):
    alice, alice_sub = users["alice"]
    subject = {
        "subject_type": "oauth_token",
        "token_type": "access_token",
        "token_identifier_alg": "prefix",
        "token": recorder.stored[alice_sub].token[:16],
    }
    push(app, fake.risc_event("token-revoked", subject=subject))
    assert signed_in(alice)
    assert recorder.deleted == []


@pytest.mark.parametrize("reason", ["hijacking", None])
def test_account_disabled_hijacking_or_no_reason(app, fake, users, recorder, sent, reason):
    alice, alice_sub = users["alice"]
    push(app, fake.risc_event("account-disabled", sub=alice_sub, reason=reason))
    assert not signed_in(alice)
    assert signed_in(users["bob"][0])
    assert recorder.deleted == [alice_sub]
    assert sent[0] == (
        "account-disabled",
        {"sub": alice_sub, "reason": reason, "event": _any, "jti": _any},
    )


def test_account_disabled_bulk_account_only_signals(app, fake, users, recorder, sent):
    alice, alice_sub = users["alice"]
    push(app, fake.risc_event("account-disabled", sub=alice_sub, reason="bulk-account"))
    assert signed_in(alice)
    assert recorder.deleted == []
    assert sent[0][1]["reason"] == "bulk-account"


@pytest.mark.parametrize("name", ["account-enabled", "account-credential-change-required"])
def test_signal_only_events(app, fake, users, recorder, sent, name):
    alice, alice_sub = users["alice"]
    push(app, fake.risc_event(name, sub=alice_sub))
    assert signed_in(alice)
    assert recorder.deleted == []
    assert [n for n, _ in sent] == [name, "received"]
    assert sent[0][1]["sub"] == alice_sub


def test_verification_is_logged_and_signalled(app, fake, sent, caplog):
    with caplog.at_level(logging.INFO, logger="flask_google_flow"):
        push(app, fake.risc_event("verification", state="check 42"))
    assert "check 42" in caplog.text
    assert sent[0] == (
        "verification",
        {"state": "check 42", "event": {"state": "check 42"}, "jti": _any},
    )


def test_unknown_event_types_are_logged_and_acknowledged(app, fake, users, sent, caplog):
    alice, alice_sub = users["alice"]
    uri = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
    with caplog.at_level(logging.INFO, logger="flask_google_flow"):
        push(app, fake.risc_event(uri, sub=alice_sub))
    assert "account-purged" in caplog.text
    assert signed_in(alice)
    assert sent == [
        (
            "received",
            {"event_type": uri, "name": None, "sub": alice_sub, "event": _any, "jti": _any},
        )
    ]


def test_a_subject_of_another_issuer_is_not_our_user(app, fake, users, recorder):
    alice, alice_sub = users["alice"]
    subject = {"subject_type": "iss-sub", "iss": "https://other.example/", "sub": alice_sub}
    push(app, fake.risc_event("tokens-revoked", subject=subject))
    assert signed_in(alice)
    assert recorder.deleted == []


def test_id_token_claims_subject(app, fake, users, recorder):
    alice, alice_sub = users["alice"]
    subject = {"subject_type": "id_token_claims", "sub": alice_sub, "email": "x@example.com"}
    push(app, fake.risc_event("sessions-revoked", subject=subject))
    assert not signed_in(alice)


def test_credentials_kept_in_the_session_go_with_it(make_app, fake):
    """Without callbacks the credentials live in the session: ending it drops them."""
    app = make_app(callbacks=False)
    client = app.test_client()
    sign_in(client, fake)
    assert client.get("/me").json["authorized"] is True
    push(app, fake.risc_event("tokens-revoked", sub=fake.default_account.sub))
    assert client.get("/me").json == {"user": None, "authorized": False}


def test_a_failing_delete_callback_is_logged_and_sessions_still_end(
    app, fake, users, recorder, caplog
):
    alice, alice_sub = users["alice"]
    app.extensions["google_flow"].extension.delete(lambda sub: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="flask_google_flow"):
        push(app, fake.risc_event("tokens-revoked", sub=alice_sub))
    assert not signed_in(alice)
    assert "delete callback raised" in caplog.text


def test_sessions_signed_in_before_risc_was_enabled_are_ended_too(make_app, fake, tmp_path):
    """A session without the marker copy (signed in while RISC was off) is older than any event."""
    off = make_app(config={"GOOGLE_FLOW_RISC_ENABLED": False})
    client = off.test_client()
    sign_in(client, fake)
    on = make_app()  # the same instance folder: the same embedded session store
    browser = on.test_client()
    browser.set_cookie("session", client.get_cookie("session").value)
    assert signed_in(browser)
    push(on, fake.risc_event("sessions-revoked", sub=fake.default_account.sub))
    assert not signed_in(browser)


def test_a_session_backend_failure_is_503_and_the_redelivery_acts(app, fake, users, recorder):
    """Nothing is half-done for good: the jti is released, so Google's retry works."""
    from flask_google_flow.ext.errors import SessionUnavailable

    alice, alice_sub = users["alice"]
    sessions = app.extensions["google_flow.risc"].sessions
    real_end_all = sessions.end_all
    calls = []

    def failing_once(sub):
        calls.append(sub)
        if len(calls) == 1:
            raise SessionUnavailable()
        real_end_all(sub)

    sessions.end_all = failing_once
    token = fake.risc_event("sessions-revoked", sub=alice_sub)
    failed = app.test_client().post("/risc", data=token, headers=SET_TYPE)
    assert failed.status_code == 503
    assert signed_in(alice)
    push(app, token)
    assert not signed_in(alice)


def test_nothing_is_written_at_sign_in_while_risc_is_off(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_RISC_ENABLED": False})
    client = app.test_client()
    sign_in(client, fake)
    with client.session_transaction() as session:
        assert "_google_flow_user" in session
        assert "_google_flow_risc_mark" not in session
