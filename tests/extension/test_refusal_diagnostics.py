"""Every refused callback logs ONE warning saying why; the host-mismatch page.

The warning names the error code and the reason (unknown state, expired,
another session, ``iss`` mismatch, the token endpoint's failure kind, the ID
token check that failed) and never a code, state or token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
import urllib3

from flask_google_flow.core.failures import failure_kind
from flask_google_flow.testing import FakeGoogle
from tests.sign_in_helpers import CALLBACK, build_app, callback_path, query_of, start

LOOPBACK_CALLBACK = "http://127.0.0.1/oauth2callback"


@pytest.fixture
def fake_and_mock(clock) -> Iterator[tuple[FakeGoogle, responses.RequestsMock]]:
    google = FakeGoogle(clock=clock)
    with google.intercept() as mock:
        yield google, mock


@pytest.fixture
def fake(fake_and_mock) -> FakeGoogle:
    return fake_and_mock[0]


@pytest.fixture
def make_app(fake, clock, tmp_path) -> Any:
    def factory(**config: Any) -> Any:
        client_config = fake.client_config([CALLBACK, LOOPBACK_CALLBACK])
        return build_app(
            fake, clock, tmp_path / "instance", config=config, client_config=client_config
        )[0]

    return factory


def start_at(client, base_url: str) -> str:
    """GET /authorize as a browser on *base_url*; the provider URL."""
    response = client.get("/authorize", base_url=base_url)
    assert response.status_code == 302
    return response.headers["Location"]


def refusals(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name.startswith("flask_google_flow") and r.levelno >= logging.WARNING
    ]


def one_refusal(caplog, error_code: str, *secrets: str) -> str:
    [record] = refusals(caplog)
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert f"sign-in refused ({error_code})" in message
    for secret in secrets:
        assert secret not in message
    return message


def test_unknown_state_of_this_session(client, caplog):
    start(client)
    caplog.set_level(logging.DEBUG)
    assert client.get("/oauth2callback?state=made-up-state&code=the-code").status_code == 400
    message = one_refusal(caplog, "unknown_state", "made-up-state", "the-code")
    assert "already used, started in another session, or made up" in message


def test_replayed_callback(client, fake, caplog):
    callback = callback_path(fake.approve(start(client)))
    assert client.get(callback).status_code == 302
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 400
    params = query_of(callback)
    one_refusal(caplog, "unknown_state", params["state"], params["code"])


def test_other_session_no_cookie(app, fake, caplog):
    callback = callback_path(fake.approve(start(app.test_client())))
    caplog.set_level(logging.DEBUG)
    assert app.test_client().get(callback).status_code == 400
    message = one_refusal(caplog, "unknown_state", query_of(callback)["code"])
    assert "session cookie did not come back" in message


def test_expired(client, fake, clock, caplog):
    callback = callback_path(fake.approve(start(client)))
    clock.advance(601)
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 400
    message = one_refusal(caplog, "unknown_state", query_of(callback)["code"])
    assert "GOOGLE_FLOW_PENDING_TTL" in message


def test_missing_state(client, caplog):
    caplog.set_level(logging.DEBUG)
    assert client.get("/oauth2callback?code=abc").status_code == 400
    assert "no usable state" in one_refusal(caplog, "unknown_state")


def test_issuer_mismatch(client, fake, caplog):
    callback = callback_path(fake.approve(start(client)))
    caplog.set_level(logging.DEBUG)
    response = client.get(callback.replace("iss=", "iss=https%3A%2F%2Fevil.example&x=", 1))
    assert response.status_code == 400
    message = one_refusal(caplog, "issuer_mismatch", query_of(callback)["code"])
    assert "'https://evil.example'" in message
    assert "https://accounts.google.com" in message


def test_denied(client, fake, caplog):
    callback = callback_path(fake.deny(start(client)))
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 403
    one_refusal(caplog, "access_denied")


def test_token_endpoint_refused_with_its_oauth_error(client, fake, caplog):
    callback = callback_path(fake.approve(start(client)))
    fake.fail_token("server_error", status=503)
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 502
    message = one_refusal(caplog, "provider_unavailable", query_of(callback)["code"])
    assert "token endpoint" in message and "503" in message


def test_token_endpoint_timeout(client, fake, caplog):
    callback = callback_path(fake.approve(start(client)))
    fake.fail_token("timeout")
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 504
    assert "token endpoint timed out" in one_refusal(caplog, "provider_timeout")


def test_tls_failure_names_the_kind(make_app, fake_and_mock, caplog):
    _, mock = fake_and_mock
    url = "https://tls.example/token"
    cause = urllib3.exceptions.MaxRetryError(None, url, urllib3.exceptions.SSLError("bad cert"))
    mock.add(responses.POST, url, body=requests.exceptions.SSLError(cause))
    app = make_app(GOOGLE_FLOW_TOKEN_ENDPOINT=url)
    client = app.test_client()
    callback = callback_path(fake_and_mock[0].approve(start(client)))
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 502
    message = one_refusal(caplog, "provider_unavailable", query_of(callback)["code"])
    assert "could not be reached (SSLError)" in message


def test_failure_kind_names_urllib3s_reason():
    cause = urllib3.exceptions.MaxRetryError(
        None, "/", urllib3.exceptions.NameResolutionError("host", None, OSError("no"))
    )
    assert failure_kind(requests.ConnectionError(cause)) == "ConnectionError: NameResolutionError"
    assert failure_kind(requests.ConnectionError("plain")) == "ConnectionError"
    ssl = urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.SSLError("x"))
    assert failure_kind(requests.exceptions.SSLError(ssl)) == "SSLError"


@pytest.mark.parametrize(
    ("tamper", "check"),
    [("wrong_aud", "audience"), ("wrong_nonce", "nonce"), ("expired", "expired")],
)
def test_id_token_check_that_failed(client, fake, caplog, tamper, check):
    fake.tamper_id_token(tamper)
    callback = callback_path(fake.approve(start(client)))
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 401
    message = one_refusal(caplog, "invalid_id_token", query_of(callback)["code"])
    assert f"the {check!r} check" in message


def test_hosted_domain(make_app, fake, caplog):
    app = make_app(GOOGLE_FLOW_HOSTED_DOMAIN="corp.example")
    fake.tamper_id_token("wrong_hd")
    client = app.test_client()
    callback = callback_path(fake.approve(start(client)))
    caplog.set_level(logging.DEBUG)
    assert client.get(callback).status_code == 403
    assert "hd claim" in one_refusal(caplog, "hosted_domain")


# -- localhost vs 127.0.0.1 ------------------------------------------------------


def test_host_mismatch_gets_its_own_page_and_log_line(make_app, fake, caplog):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    client = app.test_client()  # browses http://localhost/
    callback = fake.approve(start(client))
    assert callback.startswith(LOOPBACK_CALLBACK)
    caplog.set_level(logging.DEBUG)
    response = client.get(callback)  # the cookie is for localhost, not 127.0.0.1
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Sign-in started on another address" in body
    assert "You started signing in at localhost, but Google sent you back to 127.0.0.1" in body
    message = one_refusal(caplog, "host_mismatch", query_of(callback)["code"])
    assert "'localhost'" in message and "'127.0.0.1'" in message
    for secret in query_of(callback).values():
        assert secret not in body or secret.startswith("http")


def test_host_mismatch_is_caught_as_unknown_state(make_app, fake):
    from flask_google_flow.errors import UnknownStateError

    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    seen = []

    @app.errorhandler(UnknownStateError)
    def handler(error):
        seen.append(error.error_code)
        return "handled", 400

    client = app.test_client()
    client.get(fake.approve(start(client)))
    assert seen == ["host_mismatch"]


def test_same_host_without_a_cookie_is_a_plain_expired_page(make_app, fake):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    starter = app.test_client()
    callback = fake.approve(start_at(starter, "http://127.0.0.1"))
    response = app.test_client().get(callback)  # another browser, same host
    assert response.status_code == 400
    assert "Sign-in expired" in response.get_data(as_text=True)


def test_attack_a_spoofed_start_host_is_never_shown_on_the_page(make_app, fake, caplog):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    attacker = app.test_client()
    callback = fake.approve(start_at(attacker, "http://evil.example"))
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get(callback)  # the victim follows the attacker's link
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "evil.example" not in body
    assert "Open the site at 127.0.0.1" in body
    assert "'evil.example'" in one_refusal(caplog, "host_mismatch")


def test_a_loopback_start_host_with_a_port_is_shown(make_app, fake):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    callback = fake.approve(start_at(app.test_client(), "http://localhost:1"))
    response = app.test_client().get(callback)
    assert "localhost:1" in response.get_data(as_text=True)  # loopback: shown, escaped


def test_the_start_host_record_is_single_use(make_app, fake):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    client = app.test_client()
    callback = fake.approve(start(client))
    assert "another address" in client.get(callback).get_data(as_text=True)
    assert "Sign-in expired" in client.get(callback).get_data(as_text=True)


def _recorded_puts(app, monkeypatch) -> list[str]:
    store = app.extensions["google_flow"].pending.store
    written: list[str] = []
    real_put = store.put
    monkeypatch.setattr(store, "put", lambda k, v, ttl: (written.append(v), real_put(k, v, ttl)))
    return written


def test_no_start_host_record_when_the_hosts_agree(make_app, fake, monkeypatch):
    app = make_app()
    written = _recorded_puts(app, monkeypatch)
    start(app.test_client())
    start_at(app.test_client(), "http://localhost:8000")
    assert len(written) == 2  # the two pending flows, nothing else


def test_a_start_host_record_holds_only_the_host(make_app, fake, monkeypatch):
    app = make_app(GOOGLE_FLOW_REDIRECT_URI=LOOPBACK_CALLBACK)
    written = _recorded_puts(app, monkeypatch)
    start_at(app.test_client(), "http://localhost:8000")
    assert written[1:] == ["localhost:8000"]
