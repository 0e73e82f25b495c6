"""``POST /risc``: what is refused (RFC 8935 error bodies) and that a refusal does nothing."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from flask_google_flow import GoogleFlow
from flask_google_flow.core.security_events import MAX_SET_LENGTH
from flask_google_flow.ext import signals
from flask_google_flow.testing import pooled_signing_key
from flask_google_flow.testing._keys import unsigned_jwt
from tests.sign_in_helpers import CALLBACK, sign_in

SET_TYPE = {"Content-Type": "application/secevent+jwt"}


@pytest.fixture
def received() -> Any:
    """Every ``security_event_received`` signal sent during the test."""
    events: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        events.append(kwargs)

    signals.security_event_received.connect(record)
    yield events
    signals.security_event_received.disconnect(record)


def post(app: Flask, token: Any, *, headers: dict[str, str] | None = None):
    """POST a SET from a fresh client: no cookie, like Google's transmitter."""
    return app.test_client().post("/risc", data=token, headers=headers or SET_TYPE)


def signed_in(client: Any) -> bool:
    return client.get("/me").json["user"] is not None


def refused(response: Any, err: str) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["err"] == err
    assert isinstance(body["description"], str) and body["description"]
    assert "Set-Cookie" not in response.headers


def test_a_valid_set_is_acknowledged_with_202_and_no_session(app, fake, received):
    response = post(app, fake.risc_event("account-enabled", sub="1234"))
    assert response.status_code == 202
    assert response.get_data() == b""
    assert "Set-Cookie" not in response.headers
    assert [e["name"] for e in received] == ["account-enabled"]


def test_get_is_405(app):
    assert app.test_client().get("/risc").status_code == 405


def test_not_registered_when_risc_is_off(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_RISC_ENABLED": False})
    assert post(app, fake.risc_event("sessions-revoked", sub="1")).status_code == 404
    assert "google_flow.risc" not in app.view_functions


def test_cross_origin_posts_are_accepted(app, fake):
    """Google's POST comes from no browser: the /logout same-origin rule does not apply."""
    token = fake.risc_event("account-enabled", sub="1")
    response = post(app, token, headers={**SET_TYPE, "Origin": "https://elsewhere.example"})
    assert response.status_code == 202


# -- refusals: each one does nothing -------------------------------------------------


@pytest.fixture
def victim(app, fake, recorder, received):
    """A signed-in user and a check that nothing was done to them."""
    client = app.test_client()
    assert sign_in(client, fake).status_code == 302
    sub = fake.default_account.sub

    def untouched() -> None:
        assert signed_in(client)
        assert recorder.deleted == []
        assert received == []

    return sub, untouched


def _flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def _with_payload(token: str, claims: dict[str, Any]) -> str:
    head, _payload, signature = token.split(".")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{body}.{signature}"


def test_bad_signature(app, fake, victim):
    sub, untouched = victim
    refused(
        post(app, _flip_signature(fake.risc_event("sessions-revoked", sub=sub))),
        "authentication_failed",
    )
    untouched()


def test_claims_changed_after_signing(app, fake, victim):
    sub, untouched = victim
    token = fake.risc_event("account-enabled", sub=sub)
    forged = _with_payload(token, fake.risc.claims("tokens-revoked", sub=sub))
    refused(post(app, forged), "authentication_failed")
    untouched()


def test_unknown_kid(app, fake, victim):
    sub, untouched = victim
    refused(
        post(app, fake.risc_event("sessions-revoked", sub=sub, kid="not-published")), "invalid_key"
    )
    untouched()


def test_signed_by_a_key_the_risc_configuration_does_not_publish(app, fake, victim):
    """The ID-token key (or any other) is not the RISC key."""
    sub, untouched = victim
    for key in (fake.signing_key, pooled_signing_key(3)):
        refused(post(app, fake.risc_event("sessions-revoked", sub=sub, key=key)), "invalid_key")
    untouched()


def test_alg_none_and_hmac(app, fake, victim):
    sub, untouched = victim
    claims = fake.risc.claims("sessions-revoked", sub=sub)
    unsigned = unsigned_jwt(claims)
    refused(post(app, unsigned), "invalid_request")  # no signature at all: not a JWS
    refused(post(app, unsigned + "c2ln"), "invalid_key")
    hmac_header = base64.urlsafe_b64encode(b'{"alg":"HS256","kid":"k"}').rstrip(b"=").decode()
    refused(post(app, hmac_header + unsigned[unsigned.index(".") :] + "c2ln"), "invalid_key")
    untouched()


@pytest.mark.parametrize("issuer", ["https://evil.example/", "https://accounts.google.com", None])
def test_wrong_issuer(app, fake, victim, issuer):
    """``iss`` must be the RISC configuration's issuer exactly (the ID-token spelling is not)."""
    sub, untouched = victim
    claims = fake.risc.claims("sessions-revoked", sub=sub)
    claims["iss"] = issuer
    refused(post(app, fake.risc_event("sessions-revoked", claims=claims)), "invalid_issuer")
    untouched()


@pytest.mark.parametrize("audience", ["other.apps.googleusercontent.com", ["x", "y"], [], None, 7])
def test_wrong_audience(app, fake, victim, audience):
    sub, untouched = victim
    claims = fake.risc.claims("sessions-revoked", sub=sub)
    claims["aud"] = audience
    refused(post(app, fake.risc_event("sessions-revoked", claims=claims)), "invalid_audience")
    untouched()


def test_stale_iat(app, fake, clock, victim):
    sub, untouched = victim
    token = fake.risc_event("sessions-revoked", sub=sub)
    clock.advance(86400 + 2 * 60 + 1)  # GOOGLE_FLOW_RISC_MAX_AGE plus the clock skew
    refused(post(app, token), "invalid_request")
    assert "too old" in post(app, token).get_json()["description"]
    untouched()


def test_iat_in_the_future(app, fake, clock, victim):
    sub, untouched = victim
    token = fake.risc_event("sessions-revoked", sub=sub, iat=clock() + 3600)
    refused(post(app, token), "invalid_request")
    untouched()


@pytest.mark.parametrize(
    "change",
    [
        {"jti": None},
        {"jti": ""},
        {"iat": None},
        {"iat": "yesterday"},
        {"events": None},
        {"events": {}},
        {"events": {"https://schemas.openid.net/secevent/risc/event-type/verification": "x"}},
    ],
)
def test_claims_missing_or_malformed(app, fake, victim, change):
    sub, untouched = victim
    claims = fake.risc.claims("sessions-revoked", sub=sub)
    for name, value in change.items():
        if value is None:
            del claims[name]
        else:
            claims[name] = value
    refused(post(app, fake.risc_event("sessions-revoked", claims=claims)), "invalid_request")
    untouched()


def test_an_id_token_is_not_a_set(app, fake, victim):
    _sub, untouched = victim
    id_token = fake.id_token(fake.default_account, fake.default_client.client_id)
    response = post(app, id_token)
    assert response.status_code == 400
    untouched()


@pytest.mark.parametrize(
    "body",
    [b"", b"hello", b"a.b", b"a.b.c.d", "caf\u00e9.x.y".encode(), b"\xff\xfe", b"{}"],
)
def test_non_jwt_bodies(app, victim, body):
    _sub, untouched = victim
    refused(post(app, body), "invalid_request")
    untouched()


def test_oversize_body(app, fake, victim):
    _sub, untouched = victim
    refused(post(app, b"a" * (MAX_SET_LENGTH + 1)), "invalid_request")
    # Also when the length is not announced (chunked): the read stops at the limit.
    environ = EnvironBuilder(
        path="/risc", method="POST", data=b"a" * (MAX_SET_LENGTH + 10), headers=SET_TYPE
    ).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    iterable, status, _headers = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("400")
    assert "too large" in json.loads(b"".join(iterable))["description"]
    untouched()


def test_replayed_jti_does_nothing_again(app, fake, recorder, received):
    """A SET received twice (Google redelivers, or an attacker replays) acts once."""
    client = app.test_client()
    sign_in(client, fake)
    sub = fake.default_account.sub
    token = fake.risc_event("tokens-revoked", sub=sub)
    assert post(app, token).status_code == 202
    assert not signed_in(client)
    assert recorder.deleted == [sub]
    sign_in(client, fake)  # the user signs in again afterwards
    assert signed_in(client)
    assert post(app, token).status_code == 202  # acknowledged: the transmitter may stop
    assert signed_in(client)
    assert recorder.deleted == [sub]
    assert len(received) == 1


def test_refusals_are_logged_without_the_token(app, fake, caplog):
    token = _flip_signature(fake.risc_event("sessions-revoked", sub="1"))
    with caplog.at_level(logging.INFO, logger="flask_google_flow"):
        post(app, token)
    assert "authentication_failed" in caplog.text
    assert token.split(".")[1] not in caplog.text


def test_audience_of_another_client_of_the_project(make_app, fake):
    app = make_app(config={"GOOGLE_FLOW_RISC_AUDIENCES": "android.apps.googleusercontent.com"})
    token = fake.risc_event(
        "account-enabled", sub="1", audience="android.apps.googleusercontent.com"
    )
    assert post(app, token).status_code == 202
    claims = fake.risc.claims("account-enabled", sub="1")
    claims["aud"] = ["someone-else", fake.default_client.client_id]
    assert post(app, fake.risc_event("x", claims=claims)).status_code == 202


def test_risc_configuration_and_keys_are_cached(app, fake):
    fake.reset_counts()
    for _ in range(3):
        assert post(app, fake.risc_event("account-enabled", sub="1")).status_code == 202
    assert fake.request_counts["risc_configuration"] == 1
    assert fake.request_counts["risc_jwks"] == 1


def test_an_unreachable_risc_configuration_is_502_and_nothing_is_done(make_app, fake, recorder):
    app = make_app(config={"GOOGLE_FLOW_RISC_CONFIGURATION_URL": "https://risc.invalid/conf"})
    client = app.test_client()
    sign_in(client, fake)
    sub = fake.default_account.sub
    response = post(app, fake.risc_event("tokens-revoked", sub=sub))
    assert response.status_code == 502
    assert signed_in(client)
    assert recorder.deleted == []


# -- set-up rules ------------------------------------------------------------------


def test_an_http_configuration_url_fails_at_init_app(make_app):
    with pytest.raises(ValueError, match="GOOGLE_FLOW_RISC_CONFIGURATION_URL"):
        make_app(config={"GOOGLE_FLOW_RISC_CONFIGURATION_URL": "http://risc.example/conf"})


def test_a_session_backend_without_shared_records_fails_at_init_app(fake, tmp_path):
    from flask_session.base import ServerSideSessionInterface

    class MemorySessions(ServerSideSessionInterface):
        def _retrieve_session_data(self, store_id):
            return None

        def _delete_session(self, store_id):
            return None

        def _upsert_session(self, session_lifetime, session, store_id):
            return None

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        GOOGLE_FLOW_RISC_ENABLED=True,
    )
    app.session_interface = MemorySessions(app)
    with pytest.raises(RuntimeError, match="GOOGLE_FLOW_RISC_ENABLED"):
        GoogleFlow(app)


def test_flask_wtf_csrf_protect_set_up_first_exempts_the_view(fake, tmp_path):
    exempted = []

    class CSRFProtect:  # the part of Flask-WTF's API the extension uses
        def exempt(self, view):
            exempted.append(view)
            return view

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_CLIENT_CONFIG=fake.client_config([CALLBACK]),
        GOOGLE_FLOW_RISC_ENABLED=True,
    )
    app.extensions["csrf"] = CSRFProtect()
    GoogleFlow(app)
    assert exempted == [app.view_functions["google_flow.risc"]]
