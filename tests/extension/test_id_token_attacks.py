"""Attacks on the ID token through the real flow: each refused, nothing stored."""

from __future__ import annotations

import pytest

from tests.sign_in_helpers import sign_in


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("bad_signature", 401),
        ("wrong_aud", 401),
        ("wrong_iss", 401),
        ("expired", 401),
        ("wrong_nonce", 401),
        ("alg_none", 401),
        ("unknown_kid", 401),
    ],
)
def test_tampered_id_token_is_refused(client, fake, stored, tamper, status):
    fake.tamper_id_token(tamper)
    response = sign_in(client, fake)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert stored == []
    with client.session_transaction() as sess:
        assert "_google_flow_user" not in sess


def test_wrong_hosted_domain_claim_is_refused(make_app, fake, stored):
    fake.add_account("boss@corp.example", hosted_domain="corp.example")
    app = make_app(hosted_domain="corp.example")
    fake.tamper_id_token("wrong_hd")
    response = sign_in(app.test_client(), fake, account="boss@corp.example")
    assert response.status_code == 403
    assert stored == []


def test_signing_certs_are_fetched_once_for_many_sign_ins(app, fake):
    for _ in range(5):
        assert sign_in(app.test_client(), fake).status_code == 302
    assert fake.request_counts["certs"] == 1
    assert fake.request_counts["token"] == 5


def test_key_rotation_triggers_one_refetch(app, fake):
    assert sign_in(app.test_client(), fake).status_code == 302
    fake.rotate_key(keep_old=False)
    assert sign_in(app.test_client(), fake).status_code == 302
    assert fake.request_counts["certs"] == 2


def test_certs_endpoint_down_is_502(client, fake, stored):
    fake.fail("certs", "server_error")
    response = sign_in(client, fake)
    assert response.status_code == 502
    assert stored == []


def test_expired_certs_cache_is_refreshed_after_max_age(app, fake, clock):
    assert sign_in(app.test_client(), fake).status_code == 302
    clock.advance(fake.certs_max_age + 1)
    assert sign_in(app.test_client(), fake, prompt="consent").status_code == 302
    assert fake.request_counts["certs"] == 2
