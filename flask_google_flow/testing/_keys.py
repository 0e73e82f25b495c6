"""RSA signing keys of the fake Google, published as PEM certificates and as a JWKS.

Generating a 2048-bit key costs tens of milliseconds, so the keys are taken
from a small module-level pool (:func:`pooled_signing_key`) that every
:class:`~flask_google_flow.testing.FakeGoogle` in a test process shares.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import json
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data: bytes) -> str:
    """Encode ``data`` as unpadded base64url text (the JOSE encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """A test RSA key with its ``kid``, self-signed certificate and JWK.

    :ivar private_key: the RSA private key.
    :ivar kid: the key id put into JWT headers (a hash of the public key).
    :ivar certificate_pem: a self-signed X.509 certificate in PEM, the form of
        Google's ``/oauth2/v1/certs``.
    :ivar jwk: the public key as a JWK mapping, the form of ``/oauth2/v3/certs``.
    """

    private_key: rsa.RSAPrivateKey
    kid: str
    certificate_pem: str
    jwk: dict[str, str] = field(hash=False)

    @classmethod
    def generate(cls) -> SigningKey:
        """Generate a fresh 2048-bit key (slow-ish: prefer :func:`pooled_signing_key`)."""
        return cls.from_private_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_private_key(cls, private_key: rsa.RSAPrivateKey | bytes | str) -> SigningKey:
        """Wrap an existing RSA private key (an object, or PEM text/bytes without password).

        :raises TypeError: if the key is not an RSA private key.
        """
        if isinstance(private_key, str):
            private_key = private_key.encode("ascii")
        if isinstance(private_key, bytes):
            private_key = serialization.load_pem_private_key(private_key, password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("the fake Google signs with RS256 and needs an RSA private key")
        numbers = private_key.public_key().public_numbers()
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = hashlib.sha1(der, usedforsecurity=False).hexdigest()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-google.testing")])
        now = datetime.datetime.now(datetime.timezone.utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private_key.public_key())
            .serial_number(int(kid[:16], 16))
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(private_key, hashes.SHA256())
        )
        jwk = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": kid,
            "n": _int_b64url(numbers.n),
            "e": _int_b64url(numbers.e),
        }
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return cls(private_key=private_key, kid=kid, certificate_pem=pem, jwk=jwk)

    def sign_jwt(self, claims: dict[str, object], *, kid: str | None = None) -> str:
        """Return an RS256 JWT of ``claims`` with header ``kid`` (default: this key's)."""
        header = {"alg": "RS256", "kid": kid or self.kid, "typ": "JWT"}
        signing_input = f"{_json_b64(header)}.{_json_b64(claims)}".encode("ascii")
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def _json_b64(value: dict[str, object]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def unsigned_jwt(claims: dict[str, object]) -> str:
    """Return an ``alg: none`` JWT of ``claims`` (for attacking a verifier)."""
    return f"{_json_b64({'alg': 'none', 'typ': 'JWT'})}.{_json_b64(claims)}."


@functools.cache
def pooled_signing_key(index: int = 0) -> SigningKey:
    """Return the ``index``-th key of a process-wide pool, generating it on first use.

    Fake servers of one test process share these keys, so each key is generated once.
    """
    return SigningKey.generate()
