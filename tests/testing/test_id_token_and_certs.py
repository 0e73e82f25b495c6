"""ID tokens: Google's claim shape, both certs formats, key rotation and tampering."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions as google_auth_exceptions
from google.auth import jwt

from flask_google_flow.testing import FakeGoogle, SigningKey


def _b64int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _jwks_as_pem(jwks: dict) -> dict[str, str]:
    keys = {}
    for jwk in jwks["keys"]:
        public = rsa.RSAPublicNumbers(_b64int(jwk["e"]), _b64int(jwk["n"])).public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        keys[jwk["kid"]] = pem.decode()
    return keys


def _header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_id_token_verifies_with_pem_certs_and_has_googles_shape(google):
    fake = google.fake
    tokens = google.login()
    certs = google.session.get(fake.endpoints.certs_pem, timeout=5).json()
    assert all(pem.startswith("-----BEGIN CERTIFICATE-----") for pem in certs.values())
    claims = jwt.decode(tokens["id_token"], certs=certs, audience=fake.default_client.client_id)
    account = fake.default_account
    assert _header(tokens["id_token"]) == {
        "alg": "RS256",
        "kid": fake.signing_key.kid,
        "typ": "JWT",
    }
    assert claims["iss"] == fake.issuer
    assert claims["aud"] == claims["azp"] == fake.default_client.client_id
    assert claims["sub"] == account.sub
    assert claims["email"] == account.email
    assert claims["email_verified"] is True
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Test User",
        "Test",
        "User",
    )
    assert "hd" not in claims
    assert claims["nonce"] == "nonce-456"
    assert claims["exp"] - claims["iat"] == 3600
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_id_token_verifies_with_jwks(google):
    tokens = google.login()
    jwks = google.session.get(google.fake.endpoints.jwks, timeout=5).json()
    assert jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["alg"] == "RS256"
    jwt.decode(
        tokens["id_token"], certs=_jwks_as_pem(jwks), audience=google.fake.default_client.client_id
    )


def test_workspace_accounts_get_hd_and_picture(google):
    google.fake.add_account(
        "dana@corp.example",
        hosted_domain="corp.example",
        picture="https://example.com/d.png",
        email_verified=False,
    )
    tokens = google.login(login_hint="dana@corp.example")
    claims = jwt.decode(tokens["id_token"], verify=False)
    assert (claims["hd"], claims["picture"], claims["email_verified"]) == (
        "corp.example",
        "https://example.com/d.png",
        False,
    )
    assert "family_name" not in claims  # a one-word name


def test_certs_cache_headers(google):
    for url in (google.fake.endpoints.certs_pem, google.fake.endpoints.jwks):
        response = google.session.get(url, timeout=5)
        assert response.headers["Cache-Control"] == (
            "public, max-age=21600, must-revalidate, no-transform"
        )
        assert response.headers["Expires"].endswith("GMT")
        assert response.headers["Date"].endswith("GMT")


def test_key_rotation_publishes_old_and_new_keys(google):
    fake = google.fake
    old = fake.signing_key
    before = google.login()
    new = fake.rotate_key()
    assert new.kid != old.kid
    after = google.login(prompt="consent")
    assert _header(after["id_token"])["kid"] == new.kid
    certs = google.session.get(fake.endpoints.certs_pem, timeout=5).json()
    assert list(certs) == [new.kid, old.kid]
    for tokens in (before, after):
        jwt.decode(tokens["id_token"], certs=certs, audience=fake.default_client.client_id)
    # An app holding the old certs sees an unknown kid and must refetch.
    with pytest.raises(ValueError, match="not found"):
        jwt.decode(after["id_token"], certs={old.kid: old.certificate_pem})
    fake.rotate_key(keep_old=False)
    assert list(google.session.get(fake.endpoints.certs_pem, timeout=5).json()) == [
        fake.signing_key.kid
    ]


def test_signing_key_can_be_passed_in():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fake = FakeGoogle(signing_key=pem)
    assert fake.signing_key.kid == SigningKey.from_private_key(private_key).kid
    with pytest.raises(TypeError):
        SigningKey.from_private_key(object())


@pytest.mark.parametrize(
    ("tamper", "expect"),
    [
        ("wrong_aud", "audience"),
        ("wrong_iss", "issuer"),
        ("expired", "expired"),
        ("wrong_nonce", "nonce"),
        ("bad_signature", "signature"),
        ("alg_none", "signature"),
        ("wrong_hd", "hd"),
        ("unknown_kid", "kid"),
    ],
)
def test_id_token_tampering(google, tamper, expect):
    fake = google.fake
    fake.add_account("erin@corp.example", hosted_domain="corp.example")
    fake.tamper_id_token(tamper)
    tampered = google.login(login_hint="erin@corp.example")["id_token"]
    clean = google.login(login_hint="erin@corp.example", prompt="consent")["id_token"]
    certs = fake.certs_pem()
    audience = fake.default_client.client_id
    claims = jwt.decode(clean, certs=certs, audience=audience)
    assert (claims["iss"], claims["nonce"], claims["hd"]) == (
        fake.issuer,
        "nonce-456",
        "corp.example",
    )
    if expect in {"signature", "audience", "expired", "kid"}:
        with pytest.raises((ValueError, google_auth_exceptions.GoogleAuthError)):
            jwt.decode(tampered, certs=certs, audience=audience)
        return
    claims = jwt.decode(tampered, certs=certs, audience=audience)
    if expect == "issuer":
        assert claims["iss"] != fake.issuer
    elif expect == "nonce":
        assert claims["nonce"] != "nonce-456"
    else:
        assert claims["hd"] == "evil.example.com"


def test_alg_none_header(google):
    google.fake.tamper_id_token("alg_none")
    token = google.login()["id_token"]
    assert _header(token)["alg"] == "none"
    assert token.endswith(".")


def test_tampering_for_n_tokens_or_until_cleared(google):
    fake = google.fake
    certs = fake.certs_pem()
    audience = fake.default_client.client_id

    def verifies() -> bool:
        token = google.login(prompt="consent")["id_token"]
        try:
            jwt.decode(token, certs=certs, audience=audience)
        except ValueError:
            return False
        return True

    fake.tamper_id_token("wrong_aud", times=2)
    assert [verifies(), verifies(), verifies()] == [False, False, True]
    fake.tamper_id_token("expired", "bad_signature", times=None)
    assert [verifies(), verifies()] == [False, False]
    fake.clear_failures()
    assert verifies()
    with pytest.raises(ValueError):
        fake.tamper_id_token("nonsense")
    with pytest.raises(ValueError):
        fake.tamper_id_token()
