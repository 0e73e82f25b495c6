"""Throw-away TLS material for the fake Google's https back channel.

One per process, made on first use and cached: a CA that exists only in this
process, a server certificate it signed for the loopback names
(``127.0.0.1``, ``::1``, ``localhost``), and a CA bundle for apps that talk
to the fake. The files live in a private temporary folder (mode 0700),
removed when the process exits.

* The CA's private key never touches the disk: it signs the server
  certificate and is dropped.
* The CA is name-constrained to the loopback names, so a bundle that trusts it
  (:attr:`TLSMaterial.ca_bundle`, which also holds the usual public CAs so an
  app can still reach real hosts) trusts nothing new for any other host.
"""

from __future__ import annotations

import atexit
import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK_DNS_NAMES = ("localhost",)
LOOPBACK_IPS = ("127.0.0.1", "::1")
_LIFETIME = datetime.timedelta(days=30)
_lock = threading.Lock()
_material: TLSMaterial | None = None


@dataclass(frozen=True)
class TLSMaterial:
    """Paths of the throw-away TLS files of this process.

    :ivar directory: the private folder holding them (removed at exit).
    :ivar ca_cert: the throw-away CA certificate alone (PEM).
    :ivar ca_bundle: the public CAs an app trusts by default followed by the
        throw-away CA (PEM); see :func:`default_ca_bundle`.
    :ivar cert_chain: the server certificate (PEM).
    :ivar private_key: the server's private key (PEM, mode 0600).
    """

    directory: str
    ca_cert: str
    ca_bundle: str
    cert_chain: str
    private_key: str

    def server_context(self) -> ssl.SSLContext:
        """A server-side :class:`ssl.SSLContext` (TLS 1.2+) with the server certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_chain, self.private_key)
        context.set_alpn_protocols(["http/1.1"])
        return context


def default_ca_bundle() -> str | None:
    """The CA file ``requests`` verifies with when nothing else is configured.

    ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE`` (when they name a file),
    else certifi's bundle; ``None`` if none exists.
    """
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        path = os.environ.get(name)
        if path and os.path.isfile(path):
            return path
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests depends on certifi
        return None
    path = certifi.where()
    return path if os.path.isfile(path) else None


def throwaway_tls() -> TLSMaterial:
    """This process's TLS material, made on first call."""
    global _material
    with _lock:
        if _material is None:
            _material = _make_material()
            atexit.register(_remove, _material.directory, os.getpid())
        return _material


def _remove(directory: str, creator: int) -> None:
    # A forked child (a gunicorn worker...) inherits the hook; only the creator removes.
    if os.getpid() == creator:
        shutil.rmtree(directory, ignore_errors=True)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _loopback_names() -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in LOOPBACK_DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in LOOPBACK_IPS]
    return names


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(
    now: datetime.datetime, *, permitted: list[x509.GeneralName] | None = None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA valid from ``now`` for 30 days, name-constrained to ``permitted``.

    :param permitted: the names it may sign for; default: the loopback names
        (``localhost``, ``127.0.0.0/8``, ``::1``).
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("flask-google-flow fake Google throw-away CA")
    if permitted is None:
        permitted = [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
            x509.IPAddress(ipaddress.ip_network("::1/128")),
        ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.NameConstraints(permitted, None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue_server_cert(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: datetime.datetime,
    names: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A TLS server certificate for ``names`` (default: the loopback names) signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _LIFETIME)
        .add_extension(x509.SubjectAlternativeName(names or _loopback_names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _write(path: str, data: bytes, mode: int = 0o644) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return path


def _make_material() -> TLSMaterial:
    now = datetime.datetime.now(datetime.timezone.utc)
    ca, ca_key = make_ca(now)
    cert, key = issue_server_cert(ca, ca_key, now)
    directory = tempfile.mkdtemp(prefix="fake-google-tls-")  # mode 0700
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    system = default_ca_bundle()
    public = b""
    if system is not None:
        with open(system, "rb") as file:
            public = file.read().rstrip(b"\n") + b"\n"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return TLSMaterial(
        directory=directory,
        ca_cert=_write(os.path.join(directory, "ca.pem"), ca_pem),
        ca_bundle=_write(os.path.join(directory, "ca-bundle.pem"), public + ca_pem),
        cert_chain=_write(
            os.path.join(directory, "server.pem"), cert.public_bytes(serialization.Encoding.PEM)
        ),
        private_key=_write(os.path.join(directory, "server.key"), key_pem, 0o600),
    )
