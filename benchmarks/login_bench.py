"""Per-login cost of flask-google-flow's routes against a floor and against its peers.

Run it from the repository root::

    python benchmarks/login_bench.py            # 2-4 minutes on 2 cores, with the peers
    python benchmarks/login_bench.py --impls floor,ours     # ours against the floor only
    python benchmarks/login_bench.py --rounds 40 --per-round 25 --profile

The peers need ``pip install -e '.[bench]'``; a peer whose package does not
import is skipped, with a line saying so.

A login is ``GET /authorize`` + ``GET /oauth2callback`` through the Flask test
client, one cookie jar (a new test client) per login. The provider's token and
certs endpoints are a mock server in another process, over HTTPS (a
certificate of a throw-away CA, trusted through a CA bundle file = the system
bundle + that CA, given to every implementation as ``REQUESTS_CA_BUNDLE``), as
in production: the flow layer sends no token request over plain http, so
``--modes http`` fails at ``init_app`` with a message saying so. The browser's
visit to the consent page is not timed: the "authorization code" the benchmark
hands to the callback carries what the authorization URL had (nonce and PKCE
challenge, or none, its redirect URI and scope). The mock checks the PKCE
verifier whenever a challenge was sent, puts the nonce in the ID token only
when one was sent, and counts both; for the floor and ours the benchmark
requires both in the authorization URL, for each peer what that peer is known
to send.

Implementations, interleaved in rounds in one run (order alternating), all on
the same session backend (Flask-Session + cachelib ``FileSystemCache``, a
directory each):

``floor``
    Bare Flask doing only the unavoidable work, with the same security as
    ours: state + PKCE verifier + nonce, one session write per request, one
    token POST over a kept-alive ``requests`` connection, one RS256
    verification with a cached key plus the ``iss``/``aud``/``exp``/
    ``nonce`` claim checks, a session-id rotation after login (session
    fixation), and one redirect.
``ours``
    ``GoogleFlow`` with the embedded filesystem session backend and a no-op
    ``store`` callback.
``authlib``
    Authlib's Flask client, registered with the mock's endpoints, JWKS URI and
    issuer, with S256 PKCE. It sends a nonce, and ``authorize_access_token``
    verifies the ID token (signature, issuer, audience, expiry, nonce; the key
    set is fetched once and kept). Its per-login data (verifier, nonce, the
    whole authorization URL) sits in the session; it does not rotate the
    session id, and opens a new ``requests`` session, so a new connection, for
    each token request.
``flask-dance``
    Flask-Dance's OAuth 2 consumer blueprint set up as its Google blueprint is,
    but with the mock's URLs and ``use_pkce=True`` (the Google blueprint has no
    such switch). No nonce, no ID-token verification at all (the ID token
    stays, unread, in the token it stores in the session); no session-id
    rotation.
``google-sample``
    Google's documented web-server Flask sample on
    ``google_auth_oauthlib.flow.Flow`` 1.5.0: a new ``Flow`` per request, state
    and PKCE verifier in the session, ``fetch_token`` with the callback URL,
    the credentials' fields (the client secret among them, as in the sample)
    in the session. No nonce, the ID token is not verified, no session-id
    rotation.

Flask-Dance and the Google sample parse the callback URL with
requests-oauthlib, which refuses one over plain http unless
``OAUTHLIB_INSECURE_TRANSPORT`` is set; setting it would change ours too, so
those two run on ``https://localhost`` (redirect URI and test-client base URL),
the others on ``http://localhost`` as before.

None of the three peers keeps a connection to the token endpoint between
logins: each token request goes over a new ``requests`` session, hence a new
TCP connection, a TLS handshake and a new SSL context that loads the whole CA
bundle again; a profile shows that loading the bundle is most of a peer's time
here, so their ratios say more about connection handling than about OAuth.

Reported: median and p90 per implementation and mode, the ratio to the floor
(target for ours <= 1.15), provider requests, new TCP connections, PKCE
checks and nonces per steady-state login (counted by the mock server), what
each implementation verifies, the bytes of the session and of our pending
flow, and the ratio of each peer's median to ours.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import hashlib
import hmac
import io
import json
import multiprocessing
import os
import pstats
import secrets
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import PEERS, PeerEnv, missing_package  # noqa: E402

CLIENT_ID = "bench-client.apps.googleusercontent.com"
CLIENT_SECRET = "bench-secret"
REDIRECT_URI = "http://localhost/oauth2callback"
# For the peers on requests-oauthlib, which refuses to parse a callback URL
# over plain http (and OAUTHLIB_INSECURE_TRANSPORT would change ours too).
HTTPS_REDIRECT_URI = "https://localhost/oauth2callback"
AUTH_URL = "https://accounts.example/auth"
KID = "bench-key-1"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- the mock provider (its own process) -------------------------------------------


def _private_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_private(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA, a server cert for 127.0.0.1 signed by it, and a CA bundle.

    :returns: ``(cert_chain, key, ca_bundle)``; the bundle is the system
        bundle followed by the CA.
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = _private_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login_bench throw-away CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = _private_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = directory / "server.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "server.key"
    key_file.write_bytes(_pem_private(key))
    bundle = directory / "ca-bundle.pem"
    system = Path(SYSTEM_BUNDLE).read_bytes() if Path(SYSTEM_BUNDLE).exists() else b""
    bundle.write_bytes(system + b"\n" + ca.public_bytes(serialization.Encoding.PEM))
    return chain, key_file, bundle


def _serve_mock(port_value, counters, key_pem: bytes, tls: tuple[str, str] | None, issuer: str):
    """The mock token/certs server (runs in a child process until terminated)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(key_pem, password=None)
    numbers = key.public_key().public_numbers()
    jwks = json.dumps(
        {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": KID,
                    "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                    "e": b64url(numbers.e.to_bytes(3, "big")),
                }
            ]
        }
    ).encode()
    header = b64url(json.dumps({"alg": "RS256", "kid": KID, "typ": "JWT"}).encode())
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)

    def count(index: int) -> None:
        with counters.get_lock():
            counters[index] += 1

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

        def get_request(self):
            sock, address = super().get_request()
            count(0)  # a TCP accept: a new connection
            # Answers go out in one write and without Nagle's delay, so no
            # 40 ms delayed-ACK stall hides the cost being measured.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if context is not None:
                sock = context.wrap_socket(sock, server_side=True)
            return sock, address

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None):
            lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}"]
            lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(body)}")
            lines.extend(f"{name}: {value}" for name, value in (extra or {}).items())
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

        def do_GET(self):
            if self.path == "/certs":
                count(2)
                self._send(200, jwks, {"Cache-Control": "public, max-age=21600"})
            else:
                self._send(404, b"{}")

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/token":
                self._send(404, b"{}")
                return
            count(1)
            try:
                grant = json.loads(b64url_decode(form["code"]))
                if grant["c"] is not None:  # PKCE is checked when a challenge was sent
                    challenge = b64url(hashlib.sha256(form["code_verifier"].encode()).digest())
                    assert hmac.compare_digest(challenge, grant["c"])
                basic = self.headers.get("Authorization", "")
                if basic.startswith("Basic "):  # client_secret_basic
                    user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
                    form.setdefault("client_id", user)
                    form.setdefault("client_secret", password)
                assert form["client_id"] == CLIENT_ID and form["client_secret"] == CLIENT_SECRET
                # The redirect URI of the authorization request, carried in the code.
                assert grant["r"] in (REDIRECT_URI, HTTPS_REDIRECT_URI)
                assert form["redirect_uri"] == grant["r"]
                assert form["grant_type"] == "authorization_code"
            except (KeyError, ValueError, TypeError, AssertionError):
                count(3)
                self._send(400, b'{"error": "invalid_grant"}')
                return
            if grant["c"] is not None:
                count(4)
            now = int(time.time())
            claims = {
                "iss": issuer,
                "aud": CLIENT_ID,
                "azp": CLIENT_ID,
                "sub": "110169484474386276334",
                "email": "bench@example.com",
                "email_verified": True,
                "iat": now,
                "exp": now + 3600,
            }
            if grant["n"] is not None:  # echoed only when the client sent one
                claims["nonce"] = grant["n"]
                count(5)
            signing_input = f"{header}.{b64url(json.dumps(claims).encode())}"
            signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
            body = {
                "access_token": "ya29." + secrets.token_urlsafe(32),
                "expires_in": 3599,
                "refresh_token": "1//" + secrets.token_urlsafe(32),
                "scope": grant["s"],  # as requested: requests-oauthlib checks it
                "token_type": "Bearer",
                "id_token": f"{signing_input}.{b64url(signature)}",
            }
            self._send(200, json.dumps(body).encode(), {"Cache-Control": "no-store"})

    server = Server(("127.0.0.1", 0), Handler)
    port_value.value = server.server_address[1]
    server.serve_forever(poll_interval=0.1)


COUNTERS = ("accepts", "token", "certs", "token_errors", "pkce", "nonce")


class MockProvider:
    """Starts :func:`_serve_mock` in a child process; counts accepts and requests.

    Counters: ``accepts``, ``token``, ``certs``, ``token_errors``, ``pkce`` (token
    requests whose PKCE verifier was checked), ``nonce`` (ID tokens carrying a nonce).
    """

    def __init__(self, tls: tuple[Path, Path] | None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.counters = ctx.Array("q", len(COUNTERS))
        port = ctx.Value("i", 0)
        scheme = "https" if tls else "http"
        # The issuer is the base URL; its port is only known after binding, so
        # use a fixed issuer string instead (it is never fetched).
        self.issuer = "https://bench-issuer.example"
        tls_args = (str(tls[0]), str(tls[1])) if tls else None
        self.process = ctx.Process(
            target=_serve_mock,
            args=(port, self.counters, _pem_private(_private_key()), tls_args, self.issuer),
            daemon=True,
        )
        self.process.start()
        deadline = time.monotonic() + 20
        while port.value == 0:
            if time.monotonic() > deadline or not self.process.is_alive():
                raise RuntimeError("the mock provider did not start")
            time.sleep(0.02)
        self.base_url = f"{scheme}://127.0.0.1:{port.value}"

    def snapshot(self) -> dict[str, int]:
        with self.counters.get_lock():
            values = list(self.counters)
        return dict(zip(COUNTERS, values, strict=True))

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# -- the floor and ours (the peers are in peers.py) -----------------------------


def _filesystem_session(app, directory: Path) -> None:
    """The same backend GoogleFlow embeds: Flask-Session + cachelib FileSystemCache."""
    from cachelib import FileSystemCache
    from flask_session import Session

    directory.mkdir(parents=True, exist_ok=True)
    app.config["SESSION_TYPE"] = "cachelib"
    app.config["SESSION_CACHELIB"] = FileSystemCache(str(directory), threshold=100_000, mode=0o600)
    Session(app)


def make_ours(provider: MockProvider, directory: Path, *, pending_dir: str | None = None):
    """GoogleFlow with the embedded session backend; *pending_dir*: ``GOOGLE_FLOW_PENDING_DIR``."""
    from flask import Flask

    from flask_google_flow import GoogleFlow

    app = Flask("ours", instance_path=str(directory / "instance"))
    app.config.update(
        SECRET_KEY="bench-secret-key",
        GOOGLE_CLIENT_CONFIG={
            "web": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "auth_uri": AUTH_URL,
                "token_uri": provider.base_url + "/token",
                "redirect_uris": [REDIRECT_URI],
            }
        },
        GOOGLE_FLOW_ISSUER=provider.issuer,
        GOOGLE_FLOW_AUTHORIZATION_ENDPOINT=AUTH_URL,
        GOOGLE_FLOW_TOKEN_ENDPOINT=provider.base_url + "/token",
        GOOGLE_FLOW_JWKS_URI=provider.base_url + "/certs",
        GOOGLE_FLOW_SESSION_DIR=str(directory / "sessions-ours"),
    )
    if pending_dir is not None:
        app.config["GOOGLE_FLOW_PENDING_DIR"] = pending_dir
    extension = GoogleFlow()

    @extension.store
    def store(credentials, id_info):
        return None

    extension.init_app(app)
    return app


def make_floor(provider: MockProvider, directory: Path, ca_bundle: str | None):
    """Bare Flask doing only the unavoidable work of a secure login."""
    import requests
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from flask import Flask, abort, current_app, redirect, request, session

    app = Flask("floor")
    app.config["SECRET_KEY"] = "bench-secret-key"
    _filesystem_session(app, directory / "sessions-floor")
    http = requests.Session()  # one kept-alive connection pool
    http.trust_env = False
    http.verify = ca_bundle or True
    keys: dict[str, rsa.RSAPublicKey] = {}
    token_url = provider.base_url + "/token"
    certs_url = provider.base_url + "/certs"

    def key_for(kid: str):
        if kid not in keys:
            for jwk in http.get(certs_url, timeout=10).json()["keys"]:
                n = int.from_bytes(b64url_decode(jwk["n"]), "big")
                e = int.from_bytes(b64url_decode(jwk["e"]), "big")
                keys[jwk["kid"]] = rsa.RSAPublicNumbers(e, n).public_key()
        return keys[kid]

    @app.get("/authorize")
    def authorize():
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(16)
        session["f"] = [state, verifier, nonce, int(time.time()) + 600]
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": REDIRECT_URI,
                "scope": "openid email profile",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "nonce": nonce,
                "access_type": "offline",
            }
        )
        return redirect(AUTH_URL + "?" + query, 302)

    @app.get("/oauth2callback")
    def callback():
        flow = session.pop("f", None)
        state = request.args.get("state", "")
        if not flow or not hmac.compare_digest(flow[0], state) or flow[3] < time.time():
            abort(400)
        response = http.post(
            token_url,
            data={
                "grant_type": "authorization_code",
                "code": request.args["code"],
                "redirect_uri": REDIRECT_URI,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code_verifier": flow[1],
            },
            timeout=10,
        )
        if response.status_code != 200:
            abort(502)
        token = response.json()["id_token"]
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        if header["alg"] != "RS256":
            abort(401)
        try:
            key_for(header["kid"]).verify(
                b64url_decode(signature_b64),
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            abort(401)
        claims = json.loads(b64url_decode(payload_b64))
        now = time.time()
        if (
            claims["iss"] != provider.issuer
            or claims["aud"] != CLIENT_ID
            or claims["exp"] + 60 <= now
            or not hmac.compare_digest(claims["nonce"], flow[2])
        ):
            abort(401)
        session["u"] = {"sub": claims["sub"], "email": claims["email"]}
        current_app.session_interface.regenerate(session)
        return redirect("/", 302)

    return app


# -- driving logins ----------------------------------------------------------------


@dataclass(frozen=True)
class Impl:
    """An implementation under test, with what it sends and does."""

    name: str
    app: Any
    base_url: str = "http://localhost"  # the test client's
    pkce: bool = True
    nonce: bool = True
    verifies_id_token: bool = True
    rotates_session: bool = True
    does: str = ""


FLOOR_DOES = (
    "bare Flask: state + PKCE + nonce, RS256 check with a cached key, one kept-alive"
    " connection, session id rotated"
)
OURS_DOES = "GoogleFlow: PKCE + nonce, ID token verified, session id rotated after login"
#: Ours with the pending sign-ins on a memory file system (a one-host option of
#: docs/deployment.md), the sessions on the same disk as everyone's.
OURS_TMPFS = "ours-tmpfs"
MEMORY_FOLDER = "/dev/shm"
OURS_TMPFS_DOES = OURS_DOES + "; GOOGLE_FLOW_PENDING_DIR in " + MEMORY_FOLDER


def code_for(location: str, *, pkce: bool = True, nonce: bool = True) -> tuple[str, str]:
    """What the browser brings back from the consent page: ``(code, state)``.

    The code carries what the mock checks at the token request: the nonce and
    the PKCE challenge of the authorization URL (``None`` where it has none),
    its redirect URI and its scope. ``pkce`` and ``nonce`` say whether the
    implementation must have sent them; a URL that does otherwise is an error.
    """
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    challenge = query.get("code_challenge")
    nonce_value = query.get("nonce")
    if (challenge is not None) != pkce or (nonce_value is not None) != nonce:
        raise RuntimeError(
            f"authorization URL: PKCE challenge {challenge is not None} (expected {pkce}),"
            f" nonce {nonce_value is not None} (expected {nonce}): {location}"
        )
    grant = {"n": nonce_value, "c": challenge, "r": query["redirect_uri"], "s": query["scope"]}
    return b64url(json.dumps(grant).encode()), query["state"]


def one_login(impl: Impl) -> float:
    """Authorize + callback with a new cookie jar; returns the seconds taken."""
    client = impl.app.test_client()
    started = time.perf_counter()
    first = client.get("/authorize", base_url=impl.base_url)
    if first.status_code != 302:
        raise RuntimeError(f"{impl.name}: /authorize answered {first.status_code}")
    code, state = code_for(first.headers["Location"], pkce=impl.pkce, nonce=impl.nonce)
    second = client.get(
        "/oauth2callback", query_string={"code": code, "state": state}, base_url=impl.base_url
    )
    elapsed = time.perf_counter() - started
    if second.status_code != 302:
        raise RuntimeError(f"{impl.name}: login failed: {first.status_code} {second.status_code}")
    return elapsed


def session_bytes(impl: Impl) -> dict[str, int]:
    """Bytes of the pending flow and of the session after ``/authorize``.

    The pending record is ours only (``app.extensions["google_flow"]``); the
    others keep their pending flow in the session itself.
    """
    import msgspec
    from flask import session as flask_session

    app = impl.app
    client = app.test_client()
    recorded: list[int] = []
    state = app.extensions.get("google_flow")
    if state is not None:
        store = state.pending.store
        original = store.put

        def put(key, value, ttl):
            recorded.append(len(value.encode()))
            return original(key, value, ttl)

        store.put = put
    location = client.get(
        "/authorize", query_string={"next": "/profile"}, base_url=impl.base_url
    ).headers["Location"]
    with client.session_transaction(base_url=impl.base_url) as sess:
        after_authorize = len(msgspec.msgpack.encode(dict(sess)))
    code, state_value = code_for(location, pkce=impl.pkce, nonce=impl.nonce)
    client.get(
        "/oauth2callback",
        query_string={"code": code, "state": state_value},
        base_url=impl.base_url,
    )
    with client.session_transaction(base_url=impl.base_url) as sess:
        after_login = len(msgspec.msgpack.encode(dict(sess)))
    if state is not None:
        del store.put
    del flask_session
    return {
        "pending_record": recorded[0] if recorded else 0,
        "session_after_authorize": after_authorize,
        "session_after_login": after_login,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def select_impls(spec: str | None) -> tuple[list[str], list[str]]:
    """The implementations to run, and a line for each peer skipped for a missing package.

    :param spec: ``--impls`` (comma-separated), or ``None`` for floor, ours
        and every peer whose package imports.
    """
    known = ["floor", "ours", OURS_TMPFS, *PEERS]
    names = known if spec is None else [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"--impls: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    if "floor" not in names:
        raise SystemExit("--impls must include floor: every ratio is to it")
    chosen: list[str] = []
    skipped: list[str] = []
    for name in dict.fromkeys(names):
        if name == OURS_TMPFS and not _memory_folder():
            skipped.append(f"skipped {name}: no writable {MEMORY_FOLDER} (a tmpfs) here")
            continue
        missing = missing_package(PEERS[name]) if name in PEERS else None
        if missing is None:
            chosen.append(name)
        else:
            skipped.append(
                f"skipped {name}: {missing} does not import"
                f" ({PEERS[name].distribution}: pip install -e '.[bench]')"
            )
    return chosen, skipped


def _memory_folder() -> bool:
    return os.path.isdir(MEMORY_FOLDER) and os.access(MEMORY_FOLDER, os.W_OK | os.X_OK)


def build_impls(
    names: list[str], provider: MockProvider, directory: Path, bundle, cleanup: list[str]
) -> list[Impl]:
    """The implementations named; folders to remove afterwards are added to *cleanup*."""
    env = PeerEnv(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        auth_url=AUTH_URL,
        issuer=provider.issuer,
        token_url=provider.base_url + "/token",
        certs_url=provider.base_url + "/certs",
        setup_session=_filesystem_session,
    )
    impls = []
    for name in names:
        if name == "floor":
            impls.append(Impl(name, make_floor(provider, directory, bundle), does=FLOOR_DOES))
        elif name == "ours":
            impls.append(Impl(name, make_ours(provider, directory), does=OURS_DOES))
        elif name == OURS_TMPFS:
            pending = tempfile.mkdtemp(prefix="login-bench-pending-", dir=MEMORY_FOLDER)
            cleanup.append(pending)
            app = make_ours(provider, directory / name, pending_dir=pending)
            impls.append(Impl(name, app, does=OURS_TMPFS_DOES))
        else:
            peer = PEERS[name]
            redirect_uri = HTTPS_REDIRECT_URI if peer.https_callback else REDIRECT_URI
            impls.append(
                Impl(
                    name,
                    peer.make(env, directory, redirect_uri),
                    base_url="https://localhost" if peer.https_callback else "http://localhost",
                    pkce=peer.pkce,
                    nonce=peer.nonce,
                    verifies_id_token=peer.verifies_id_token,
                    rotates_session=peer.rotates_session,
                    does=peer.does,
                )
            )
    return impls


def run_mode(mode: str, names: list[str], args, directory: Path) -> dict:
    tls = None
    bundle = None
    if mode == "https":
        chain, key, bundle_path = make_tls_files(directory)
        tls = (chain, key)
        bundle = str(bundle_path)
        # Our ProviderClient keeps requests' trust_env on (proxies, REQUESTS_CA_BUNDLE):
        # this is how a deployment points it at a custom CA bundle. The peers'
        # requests sessions (trust_env on too) verify the mock's certificate
        # with this bundle as well.
        os.environ["REQUESTS_CA_BUNDLE"] = bundle
    else:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    provider = MockProvider(tls)
    cleanup: list[str] = []
    try:
        built = build_impls(names, provider, directory / mode, bundle, cleanup)
        impls = {impl.name: impl for impl in built}
        for impl in impls.values():  # warm up: connections, cert cache, code paths
            for _ in range(args.warmup):
                one_login(impl)
        times: dict[str, list[float]] = {name: [] for name in impls}
        # Per round, each implementation's median: the paired ratios below.
        blocks: dict[str, list[float]] = {name: [] for name in impls}
        counts = {name: dict.fromkeys(COUNTERS, 0) for name in impls}
        order = list(impls)
        for round_index in range(args.rounds):
            for name in order if round_index % 2 == 0 else reversed(order):
                before = provider.snapshot()
                block = [one_login(impls[name]) for _ in range(args.per_round)]
                times[name].extend(block)
                blocks[name].append(statistics.median(block))
                after = provider.snapshot()
                for key in counts[name]:
                    counts[name][key] += after[key] - before[key]
                if after["token"] - before["token"] != args.per_round:
                    raise RuntimeError(
                        f"{name}: {after['token'] - before['token']} token requests"
                        f" for {args.per_round} logins"
                    )
        sizes = {name: session_bytes(impl) for name, impl in impls.items()}
        profile = None
        if args.profile and mode == "https" and "ours" in impls:
            profile = profile_ours(impls["ours"], args.profile_logins)
        return {
            "impls": impls,
            "times": times,
            "blocks": blocks,
            "counts": counts,
            "sizes": sizes,
            "profile": profile,
        }
    finally:
        provider.stop()
        for folder in cleanup:
            shutil.rmtree(folder, ignore_errors=True)


def profile_ours(impl: Impl, logins: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(logins):
        one_login(impl)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    out.write("\n---- by own time ----\n")
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


def paired_ratios(blocks: dict[str, list[float]]) -> dict[str, tuple[float, float, float]]:
    """Each implementation's per-round ratio to the floor: quartiles ``(q1, median, q3)``.

    The rounds alternate the implementations within seconds, so a ratio taken
    within a round is not moved by the machine getting faster or slower
    between rounds (another job, CPU frequency, a virtual machine's
    neighbours), which moves the pooled medians.
    """
    floor = blocks["floor"]
    result = {}
    for name, values in blocks.items():
        ratios = [value / base for value, base in zip(values, floor, strict=True)]
        if len(ratios) >= 2:
            q1, median, q3 = statistics.quantiles(ratios, n=4)
        else:
            q1 = median = q3 = ratios[0]
        result[name] = (q1, median, q3)
    return result


def print_mode(mode: str, result: dict) -> None:
    times = result["times"]
    floor_median = statistics.median(times["floor"])
    floor_p90 = percentile(times["floor"], 90)
    print(f"\n[{mode}]")
    print(
        f"{'impl':<13} {'median ms':>10} {'p90 ms':>8} {'ratio med':>10} {'ratio p90':>10}"
        f" {'token/login':>12} {'certs/login':>12} {'new conns/login':>16}"
        f" {'pkce/login':>11} {'nonce/login':>12} {'id token':>9} {'rotates':>8}"
    )
    for name, impl in result["impls"].items():
        values = times[name]
        median = statistics.median(values)
        p90 = percentile(values, 90)
        counts = result["counts"][name]
        n = len(values)
        print(
            f"{name:<13} {median * 1000:>10.3f} {p90 * 1000:>8.3f} "
            f"{median / floor_median:>9.3f}x {p90 / floor_p90:>9.3f}x "
            f"{counts['token'] / n:>12.3f} {counts['certs'] / n:>12.3f} "
            f"{counts['accepts'] / n:>16.3f} {counts['pkce'] / n:>11.3f} "
            f"{counts['nonce'] / n:>12.3f} "
            f"{'verified' if impl.verifies_id_token else 'no':>9} "
            f"{'yes' if impl.rotates_session else 'no':>8}"
        )
        if counts["token_errors"]:
            print(f"  !! {counts['token_errors']} token requests refused")
    paired = paired_ratios(result["blocks"])
    print(
        "paired ratio to the floor (median over rounds of the round's median over the"
        " floor's in the same round; quartiles): "
        + ", ".join(
            f"{name} {q[1]:.3f}x ({q[0]:.3f}-{q[2]:.3f})"
            for name, q in paired.items()
            if name != "floor"
        )
    )
    print(
        "(pkce/login: token requests whose PKCE verifier the mock checked; nonce/login: ID"
        " tokens carrying the client's nonce; id token, rotates: what the code does)"
    )
    for name, impl in result["impls"].items():
        print(f"{name:<13} does: {impl.does}")
    for name, sizes in result["sizes"].items():
        print(f"{name:<13} bytes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    if result["profile"]:
        print("\n[profile of ours, https]\n" + result["profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--modes", default="https")
    parser.add_argument(
        "--impls",
        default=None,
        help="comma-separated, from floor,ours,"
        + ",".join(PEERS)
        + " (default: floor, ours and every peer whose package imports)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile logins of ours (https)")
    parser.add_argument("--profile-logins", type=int, default=300)
    args = parser.parse_args(argv)
    names, skipped = select_impls(args.impls)

    logins = args.rounds * args.per_round
    print(
        f"login_bench: {args.rounds} rounds x {args.per_round} logins per implementation "
        f"and mode ({logins} each), {args.warmup} warm-up logins; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print("implementations: " + ", ".join(names) + versions(names))
    for line in skipped:
        print(line)
    directory = Path(tempfile.mkdtemp(prefix="login-bench-"))
    worst = 0.0
    worst_tmpfs = 0.0
    peer_lines = []
    try:
        for mode in args.modes.split(","):
            result = run_mode(mode, names, args, directory)
            print_mode(mode, result)
            if "ours" not in names:
                continue
            ours_median = statistics.median(result["times"]["ours"])
            pooled = ours_median / statistics.median(result["times"]["floor"])
            paired = paired_ratios(result["blocks"])["ours"][1]
            worst = max(worst, pooled, paired)
            if OURS_TMPFS in result["times"]:
                tmpfs_pooled = statistics.median(result["times"][OURS_TMPFS]) / statistics.median(
                    result["times"]["floor"]
                )
                tmpfs_paired = paired_ratios(result["blocks"])[OURS_TMPFS][1]
                worst_tmpfs = max(worst_tmpfs, tmpfs_pooled, tmpfs_paired)
            ratios = [
                f"{name} {statistics.median(result['times'][name]) / ours_median:.3f}x"
                for name in names
                if name in PEERS
            ]
            if ratios:
                peer_lines.append(f"[{mode}] " + ", ".join(ratios))
        if "ours" in names:
            verdict = "OK" if worst <= 1.15 else "ABOVE TARGET"
            print(
                f"\nworst ratio ours/floor, pooled median or paired: {worst:.3f}x"
                f" (target <= 1.15x): {verdict}"
            )
            if worst_tmpfs:
                print(
                    f"the same for {OURS_TMPFS} (pending sign-ins in {MEMORY_FOLDER}):"
                    f" {worst_tmpfs:.3f}x"
                )
        for line in peer_lines:
            print(
                "ours vs each peer: ratio of medians (peer / ours, > 1 means ours is faster) "
                + line
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def versions(names: list[str]) -> str:
    """`` (Authlib 1.9.0, ...)``: the installed versions of the peers' distributions."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in names:
        if name not in PEERS:
            continue
        distribution = PEERS[name].distribution
        with contextlib.suppress(PackageNotFoundError):
            found.append(f"{distribution} {version(distribution)}")
    return f" ({', '.join(found)})" if found else ""


if __name__ == "__main__":
    sys.exit(main())
