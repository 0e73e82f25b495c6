"""ID-token verification (OIDC Core 3.1.3.7) and the signing-key cache."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt

from flask_google_flow.core.id_token import CertsCache, parse_cache_lifetime, verify_id_token
from flask_google_flow.core.provider import GOOGLE
from flask_google_flow.exceptions import (
    HostedDomainError,
    IDTokenError,
    MalformedResponseError,
    ProviderUnavailableError,
)

CLIENT_ID = "client-123.apps.googleusercontent.com"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_700_000_000.0
CERTS_URL = "https://certs.example/keys"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Key:
    """A test signing key with its JWKS entry, PEM certificate and signer."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.signer = crypt.RSASigner.from_string(pem, key_id=kid)
        numbers = self.private.public_key().public_numbers()
        self.jwk = {
            "kty": "RSA",
            "kid": kid,
            "n": _b64_int(numbers.n),
            "e": _b64_int(numbers.e),
            "alg": "RS256",
            "use": "sig",
        }
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def certificate_pem(self) -> str:
        import datetime

        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
        start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(1)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650))
            .sign(self.private, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def sign(self, claims: Mapping[str, Any], **header: Any) -> str:
        return google_jwt.encode(self.signer, dict(claims), header=header or None).decode("ascii")


@pytest.fixture(scope="module")
def key() -> Key:
    return Key("key-1")


@pytest.fixture(scope="module")
def other_key() -> Key:
    return Key("key-2")


class FakeFetch:
    """A fetch function serving a mutable document and headers, counting calls."""

    def __init__(self, document: dict[str, Any], headers: Mapping[str, str] | None = None):
        self.document = document
        self.headers = dict(headers or {"Cache-Control": "public, max-age=3600"})
        self.calls = 0
        self.delay = 0.0
        self.error: Exception | None = None

    def __call__(self, url: str) -> tuple[dict[str, Any], Mapping[str, str]]:
        assert url == CERTS_URL
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.document, self.headers


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [k.jwk for k in keys]}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fetch(key: Key) -> FakeFetch:
    return FakeFetch(jwks(key))


@pytest.fixture
def certs(fetch: FakeFetch, clock: Clock) -> CertsCache:
    return CertsCache(fetch, CERTS_URL, clock=clock)


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "10769150350006150715113082367",
        "email": "jsmith@example.com",
        "email_verified": True,
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 3590,
        "nonce": NONCE,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def verify(token: str, certs: CertsCache, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "certs": certs,
        "audience": CLIENT_ID,
        "issuers": GOOGLE.issuers,
        "nonce": NONCE,
        "now": NOW,
    }
    options.update(kwargs)
    return verify_id_token(token, **options)


def reason_of(token: str, certs: CertsCache, **kwargs: Any) -> str:
    with pytest.raises(IDTokenError) as info:
        verify(token, certs, **kwargs)
    if len(token) > 8:
        assert token not in str(info.value)
    return info.value.reason


# -- happy paths ------------------------------------------------------------


def test_valid_token_returns_its_claims(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims())
    result = verify(token, certs)
    assert result["sub"] == "10769150350006150715113082367"
    assert result["email"] == "jsmith@example.com"


@pytest.mark.parametrize("issuer", ["https://accounts.google.com", "accounts.google.com"])
def test_both_google_issuer_spellings_are_accepted(
    key: Key, certs: CertsCache, issuer: str
) -> None:
    assert verify(key.sign(claims(iss=issuer)), certs)["iss"] == issuer


def test_audience_list_with_only_the_client_is_accepted(key: Key, certs: CertsCache) -> None:
    assert verify(key.sign(claims(aud=[CLIENT_ID])), certs)["aud"] == [CLIENT_ID]


def test_azp_is_optional(key: Key, certs: CertsCache) -> None:
    verify(key.sign(claims(azp=None)), certs)


def test_nonce_not_checked_when_none_expected(key: Key, certs: CertsCache) -> None:
    verify(key.sign(claims(nonce=None)), certs, nonce=None)


def test_google_v1_pem_certificate_map(key: Key, clock: Clock) -> None:
    fetch = FakeFetch({key.kid: key.certificate_pem()})
    cache = CertsCache(fetch, CERTS_URL, clock=clock)
    assert verify(key.sign(claims()), cache)["aud"] == CLIENT_ID


def test_pem_public_key_map(key: Key, clock: Clock) -> None:
    cache = CertsCache(FakeFetch({key.kid: key.public_pem.decode()}), CERTS_URL, clock=clock)
    verify(key.sign(claims()), cache)


def test_hosted_domain_matches_case_insensitively(key: Key, certs: CertsCache) -> None:
    verify(key.sign(claims(hd="Example.com")), certs, hosted_domain="example.com")


# -- signature and algorithm ------------------------------------------------


def test_bad_signature(key: Key, other_key: Key, certs: CertsCache) -> None:
    forged = Key.__new__(Key)
    forged.signer = crypt.RSASigner(other_key.private, key_id=key.kid)
    token = Key.sign(forged, claims())
    assert reason_of(token, certs) == "signature"


def test_tampered_payload(key: Key, certs: CertsCache) -> None:
    header, _payload, signature = key.sign(claims()).split(".")
    payload = _b64(json.dumps(claims(sub="admin")).encode())
    assert reason_of(f"{header}.{payload}.{signature}", certs) == "signature"


def test_truncated_signature(key: Key, certs: CertsCache) -> None:
    assert reason_of(key.sign(claims())[:-10], certs) == "signature"


def _unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    h = _b64(json.dumps(header).encode())
    p = _b64(json.dumps(payload).encode())
    return f"{h}.{p}.{_b64(signature)}"


def test_alg_none_is_refused(certs: CertsCache) -> None:
    token = _unsigned({"alg": "none", "kid": "key-1"}, claims()) + "x"
    assert reason_of(token, certs) == "algorithm"
    # Also with an empty signature part (not even well-formed as a JWS here).
    assert reason_of(_unsigned({"alg": "none"}, claims()), certs) == "malformed"


def test_hs256_with_the_public_key_as_secret_is_refused(key: Key, certs: CertsCache) -> None:
    """Algorithm confusion: an HMAC 'signed' with the RSA public key."""
    header = _b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims()).encode())
    mac = hmac.new(key.public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert reason_of(f"{header}.{payload}.{_b64(mac)}", certs) == "algorithm"


@pytest.mark.parametrize("alg", ["RS512", "ES256", "PS256", "rs256", None])
def test_other_algorithms_are_refused(key: Key, certs: CertsCache, alg: str | None) -> None:
    header = {"kid": key.kid} if alg is None else {"alg": alg, "kid": key.kid}
    assert reason_of(_unsigned(header, claims(), b"sig"), certs) == "algorithm"


def test_crit_header_is_refused(key: Key, certs: CertsCache) -> None:
    header = {"alg": "RS256", "kid": key.kid, "crit": ["exp"]}
    assert reason_of(_unsigned(header, claims(), b"sig"), certs) == "malformed"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a..c",
        "a b.c.d",
        "eyJ.eyJ.sig=",
        "%%%.eyJ.sig",
        "x" * 20000,
    ],
)
def test_malformed_structure(certs: CertsCache, token: str) -> None:
    assert reason_of(token, certs) == "malformed"


def test_header_not_json(certs: CertsCache) -> None:
    assert reason_of(f"{_b64(b'not json')}.{_b64(b'{}')}.c2ln", certs) == "malformed"
    assert reason_of(f"{_b64(b'[1]')}.{_b64(b'{}')}.c2ln", certs) == "malformed"


def test_payload_not_an_object_after_valid_signature(key: Key, certs: CertsCache) -> None:
    header = _b64(json.dumps({"alg": "RS256", "kid": key.kid}).encode())
    payload = _b64(b"[1, 2]")
    signature = key.signer.sign(f"{header}.{payload}".encode())
    assert reason_of(f"{header}.{payload}.{_b64(signature)}", certs) == "malformed"


def test_missing_kid(key: Key, certs: CertsCache) -> None:
    header = _b64(json.dumps({"alg": "RS256"}).encode())
    payload = _b64(json.dumps(claims()).encode())
    signature = key.signer.sign(f"{header}.{payload}".encode())
    assert reason_of(f"{header}.{payload}.{_b64(signature)}", certs) == "unknown_key"


def test_a_refused_header_is_refused_every_time(key: Key, certs: CertsCache) -> None:
    """Headers are parsed once each (a cache); a refusal is not remembered as a pass."""
    bad = _unsigned({"alg": "HS256", "kid": key.kid}, claims(), b"sig")
    assert reason_of(bad, certs) == "algorithm"
    assert reason_of(bad, certs) == "algorithm"
    good = key.sign(claims())
    assert verify(good, certs)["sub"] == claims()["sub"]
    # Same (cached) header, another payload: the signature is still checked.
    header, _payload, signature = good.split(".")
    forged = f"{header}.{_b64(json.dumps(claims(sub='someone-else')).encode())}.{signature}"
    assert reason_of(forged, certs) == "signature"


def test_the_cached_header_cannot_be_changed_through_a_result(key: Key, certs: CertsCache) -> None:
    from flask_google_flow.core.id_token import verify_signed_jwt

    token = key.sign(claims())
    header, _claims = verify_signed_jwt(token, certs=certs)
    header["alg"] = "none"
    header.pop("kid")
    again, _claims = verify_signed_jwt(token, certs=certs)
    assert again["alg"] == "RS256" and again["kid"] == key.kid


# -- claims -----------------------------------------------------------------


@pytest.mark.parametrize(
    "iss", ["https://evil.example", "https://accounts.google.com/", "http://accounts.google.com"]
)
def test_wrong_issuer(key: Key, certs: CertsCache, iss: str) -> None:
    assert reason_of(key.sign(claims(iss=iss)), certs) == "issuer"


def test_missing_or_non_string_issuer(key: Key, certs: CertsCache) -> None:
    assert reason_of(key.sign(claims(iss=None)), certs) == "issuer"
    assert reason_of(key.sign(claims(iss=["https://accounts.google.com"])), certs) == "issuer"


@pytest.mark.parametrize(
    "aud",
    [
        "another-client",
        [CLIENT_ID, "another-client"],
        ["another-client"],
        [],
        None,
        123,
        [CLIENT_ID, 5],
    ],
)
def test_wrong_audience(key: Key, certs: CertsCache, aud: Any) -> None:
    assert reason_of(key.sign(claims(aud=aud)), certs) == "audience"


def test_azp_mismatch(key: Key, certs: CertsCache) -> None:
    assert reason_of(key.sign(claims(azp="another-client")), certs) == "audience"


def test_expired(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims(exp=int(NOW) - 61, iat=int(NOW) - 3600))
    assert reason_of(token, certs) == "expired"


def test_exp_leeway_boundaries(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims(exp=int(NOW) - 30, iat=int(NOW) - 3600))
    verify(token, certs)  # within the default 60 s leeway
    assert reason_of(token, certs, leeway=0) == "expired"
    # Valid strictly before exp + leeway, refused at it.
    verify(token, certs, leeway=30.5)
    assert reason_of(token, certs, leeway=30) == "expired"


def test_issued_in_future(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims(iat=int(NOW) + 61))
    assert reason_of(token, certs) == "issued_in_future"


def test_iat_leeway_boundaries(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims(iat=int(NOW) + 60))
    verify(token, certs)  # iat == now + leeway is accepted
    assert reason_of(token, certs, leeway=59) == "issued_in_future"


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_missing_time_claims(key: Key, certs: CertsCache, claim: str) -> None:
    assert reason_of(key.sign(claims(**{claim: None})), certs) == "malformed"


@pytest.mark.parametrize("value", ["1700000000", True, [1], {"a": 1}])
def test_non_numeric_time_claims(key: Key, certs: CertsCache, value: Any) -> None:
    assert reason_of(key.sign(claims(exp=value)), certs) == "malformed"


def test_now_defaults_to_the_wall_clock(key: Key, certs: CertsCache) -> None:
    now = int(time.time())
    token = key.sign(claims(iat=now, exp=now + 60))
    verify_id_token(token, certs=certs, audience=CLIENT_ID, issuers=GOOGLE.issuers, nonce=NONCE)


@pytest.mark.parametrize("nonce", [None, "other-nonce", "", 42, "n-0S6_WzA2Mj ", "é"])
def test_missing_or_wrong_nonce(key: Key, certs: CertsCache, nonce: Any) -> None:
    assert reason_of(key.sign(claims(nonce=nonce)), certs) == "nonce"


def test_nonce_expected_non_ascii(key: Key, certs: CertsCache) -> None:
    assert reason_of(key.sign(claims()), certs, nonce="ñ") == "nonce"


@pytest.mark.parametrize("hd", [None, "evil.com", "example.com.evil.com", ""])
def test_wrong_or_missing_hosted_domain(key: Key, certs: CertsCache, hd: str | None) -> None:
    token = key.sign(claims(hd=hd))
    with pytest.raises(HostedDomainError) as info:
        verify(token, certs, hosted_domain="example.com")
    assert info.value.reason == "hosted_domain"
    assert isinstance(info.value, IDTokenError)


def test_max_age_uses_auth_time(key: Key, certs: CertsCache) -> None:
    fresh = key.sign(claims(auth_time=int(NOW) - 100))
    verify(fresh, certs, max_age=300)
    stale = key.sign(claims(auth_time=int(NOW) - 1000))
    assert reason_of(stale, certs, max_age=300) == "auth_time"
    # Without auth_time, iat stands in.
    assert reason_of(key.sign(claims(iat=int(NOW) - 1000)), certs, max_age=300) == "auth_time"


def test_verifying_with_a_cached_key_is_fast(key: Key, certs: CertsCache) -> None:
    token = key.sign(claims())
    verify(token, certs)
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        verify(token, certs)
    per_call = (time.perf_counter() - start) / rounds
    assert per_call < 0.001, per_call


# -- the certs cache --------------------------------------------------------


def test_keys_are_cached(key: Key, certs: CertsCache, fetch: FakeFetch) -> None:
    token = key.sign(claims())
    for _ in range(5):
        verify(token, certs)
    assert fetch.calls == 1 and certs.fetch_count == 1
    assert certs.kids == {key.kid}


def test_cache_expires_after_max_age(
    key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock
) -> None:
    fetch.headers = {"Cache-Control": "public, max-age=100, must-revalidate"}
    certs.get_key(key.kid)
    assert certs.expires_at == NOW + 100
    clock.now += 99
    certs.get_key(key.kid)
    assert fetch.calls == 1
    clock.now += 1
    certs.get_key(key.kid)
    assert fetch.calls == 2


def test_age_is_subtracted(key: Key, certs: CertsCache, fetch: FakeFetch) -> None:
    fetch.headers = {"cache-control": "max-age=100", "age": "40"}
    certs.get_key(key.kid)
    assert certs.expires_at == NOW + 60


@pytest.mark.parametrize("directive", ["no-store", "no-cache", "private, no-store, max-age=99"])
def test_no_store_refetches_when_next_needed(
    key: Key, certs: CertsCache, fetch: FakeFetch, directive: str
) -> None:
    fetch.headers = {"Cache-Control": directive}
    certs.get_key(key.kid)
    certs.get_key(key.kid)
    assert fetch.calls == 2


def test_expires_header(key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock) -> None:
    fetch.headers = {
        "Date": "Tue, 14 Nov 2023 22:13:20 GMT",
        "Expires": "Tue, 14 Nov 2023 22:43:20 GMT",
    }
    certs.get_key(key.kid)
    assert certs.expires_at == NOW + 1800


def test_parse_cache_lifetime_rules() -> None:
    assert parse_cache_lifetime({}, now=NOW) == 3600
    assert parse_cache_lifetime({}, now=NOW, default=5) == 5
    assert parse_cache_lifetime({"Cache-Control": "max-age=999999999"}, now=NOW) == 86400
    assert parse_cache_lifetime({"Cache-Control": "max-age=10", "Age": "50"}, now=NOW) == 0
    assert parse_cache_lifetime({"Cache-Control": "max-age=oops"}, now=NOW) == 3600
    assert parse_cache_lifetime({"Cache-Control": "max-age=10", "Age": "x"}, now=NOW) == 10
    # Expires without Date is relative to now; an invalid Expires means expired.
    assert parse_cache_lifetime({"Expires": "Tue, 14 Nov 2023 22:23:20 GMT"}, now=NOW) == 600
    assert parse_cache_lifetime({"Expires": "0"}, now=NOW) == 0
    # max-age wins over Expires.
    headers = {"Cache-Control": "max-age=20", "Expires": "Tue, 14 Nov 2030 22:23:20 GMT"}
    assert parse_cache_lifetime(headers, now=NOW) == 20


def test_unknown_kid_triggers_one_refetch_then_fails(
    key: Key, other_key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock
) -> None:
    certs.get_key(key.kid)
    clock.now += 61
    with pytest.raises(IDTokenError) as info:
        certs.get_key("random-kid")
    assert info.value.reason == "unknown_key"
    assert fetch.calls == 2


def test_key_rotation_is_picked_up_by_the_refetch(
    key: Key, other_key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock
) -> None:
    certs.get_key(key.kid)
    fetch.document = jwks(key, other_key)
    clock.now += 120
    token = other_key.sign(claims(iat=int(clock.now), exp=int(clock.now) + 100))
    verify(token, certs, now=clock.now)
    assert fetch.calls == 2


def test_unknown_kid_refetch_is_rate_limited(
    key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock
) -> None:
    certs.get_key(key.kid)
    for i in range(50):
        clock.now += 1
        with pytest.raises(IDTokenError):
            certs.get_key(f"attacker-{i}")
    # 50 seconds of random kids: the first one refetched (it could have been a
    # rotation), the other 49 fell within the 60 s interval.
    assert fetch.calls == 2
    clock.now += 11  # 60 s after the first unknown-kid refetch
    with pytest.raises(IDTokenError):
        certs.get_key("attacker-x")
    assert fetch.calls == 3
    for i in range(20):
        with pytest.raises(IDTokenError):
            certs.get_key(f"attacker-y{i}")
    assert fetch.calls == 3


def test_key_rotated_right_after_a_fetch_is_picked_up_at_once(
    key: Key, other_key: Key, certs: CertsCache, fetch: FakeFetch, clock: Clock
) -> None:
    certs.get_key(key.kid)
    fetch.document = jwks(key, other_key)
    token = other_key.sign(claims(iat=int(clock.now), exp=int(clock.now) + 100))
    verify(token, certs, now=clock.now)
    assert fetch.calls == 2


def test_unknown_kid_on_a_cold_cache_fetches_once(certs: CertsCache, fetch: FakeFetch) -> None:
    with pytest.raises(IDTokenError):
        certs.get_key("nope")
    assert fetch.calls == 1


def test_cold_cache_concurrency_fetches_once(key: Key, certs: CertsCache, fetch: FakeFetch) -> None:
    fetch.delay = 0.05
    token = key.sign(claims())
    barrier = threading.Barrier(16)
    results: list[Any] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(verify(token, certs)["sub"])
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["10769150350006150715113082367"] * 16
    assert fetch.calls == 1


def test_fetch_failure_propagates_and_is_retried(
    key: Key, certs: CertsCache, fetch: FakeFetch
) -> None:
    fetch.error = ProviderUnavailableError("down", endpoint="certs", status=503)
    with pytest.raises(ProviderUnavailableError):
        certs.get_key(key.kid)
    fetch.error = None
    assert certs.get_key(key.kid) is not None
    assert fetch.calls == 2


def test_failed_refresh_keeps_the_old_keys(key: Key, certs: CertsCache, fetch: FakeFetch) -> None:
    certs.get_key(key.kid)
    fetch.error = ProviderUnavailableError("down", endpoint="certs")
    with pytest.raises(ProviderUnavailableError):
        certs.refresh()
    assert certs.get_key(key.kid) is not None


@pytest.mark.parametrize(
    "document",
    [
        {"keys": "nope"},
        {"keys": []},
        {"keys": [{"kty": "EC", "kid": "a", "crv": "P-256", "x": "AA", "y": "AA"}]},
        {"keys": [{"kty": "RSA", "kid": "a", "n": "", "e": "AQAB"}]},
        {"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB", "use": "enc"}]},
        {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]},
        {"a": "not a pem"},
        {"a": 5},
        {},
    ],
)
def test_unusable_certs_documents(clock: Clock, document: dict[str, Any]) -> None:
    cache = CertsCache(FakeFetch(document), CERTS_URL, clock=clock)
    with pytest.raises(MalformedResponseError):
        cache.get_key("a")


def test_unusable_entries_are_skipped(key: Key, clock: Clock) -> None:
    document = {"keys": [{"kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB"}, key.jwk]}
    cache = CertsCache(FakeFetch(document), CERTS_URL, clock=clock)
    assert cache.get_key(key.kid) is not None
    assert cache.kids == {key.kid}
