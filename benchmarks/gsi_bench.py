"""Per-sign-in cost of ``POST /gsi`` (Google Identity Services) against a bare-Flask floor.

Run it from the repository root::

    python benchmarks/gsi_bench.py                 # ~20 s on 2 cores
    python benchmarks/gsi_bench.py --rounds 30 --per-round 40

A GIS sign-in is what a browser does with the "Sign in with Google" button:
``GET`` a page that renders the button (a fresh single-use nonce kept
server-side), then ``POST /gsi`` with the ID token Google signed for that
nonce, the ``g_csrf_token`` cookie and field, and an ``Origin`` header. One
cookie jar (a new test client) per sign-in. Signing the ID token (Google's
work) is not timed; the page GET and the POST are.

Implementations, interleaved in rounds (order alternating):

``ours``
    ``GoogleFlow`` with the embedded filesystem session backend, a no-op
    ``store`` and a page rendering ``google_sign_in_button()``; the signing
    keys come from the in-process fake Google once, then from the cache.
``floor``
    Bare Flask with the same session backend doing the same checks and
    nothing more: a nonce in the session per page (with its expiry), then the
    origin check, the double-submit compare, an RS256 verification with a
    cached key, ``iss``/``aud``/``azp``/``exp``/``iat`` checks, the nonce
    popped (single use), the session id rotated and a redirect.

Reported: median and p90 per implementation and the ratio ours / floor, in
wall-clock time and in CPU time of the benchmark's thread (the latter is
steadier when other processes share the machine).
"""

from __future__ import annotations

import argparse
import hmac
import json
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from login_bench import _filesystem_session, b64url_decode, percentile  # noqa: E402

ORIGIN = "http://localhost"
PAGE = "<!doctype html><title>GIS</title>{{ google_sign_in_button(next='/') }}"
_NONCE = re.compile(r'data-nonce="([^"]+)"')


def make_ours(fake, directory: Path):
    from flask import Flask

    from flask_google_flow import GoogleFlow

    app = Flask("ours", instance_path=str(directory / "instance"))
    app.config.update(
        SECRET_KEY="bench-secret-key",
        GOOGLE_CLIENT_CONFIG=fake.client_config(),
        GOOGLE_FLOW_SESSION_DIR=str(directory / "sessions-ours"),
    )
    extension = GoogleFlow()

    @extension.store
    def store(credentials, id_info):
        return None

    extension.init_app(app)
    template = app.jinja_env.from_string(PAGE)  # compiled once, as render_template caches

    @app.get("/page")
    def page():
        return template.render()

    return app


def make_floor(fake, directory: Path):
    """Bare Flask doing only the checks ``POST /gsi`` needs, with the same security."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from flask import Flask, abort, current_app, redirect, request, session
    from markupsafe import escape

    app = Flask("floor")
    app.config["SECRET_KEY"] = "bench-secret-key"
    _filesystem_session(app, directory / "sessions-floor")
    keys = {fake.signing_key.kid: fake.signing_key.private_key.public_key()}
    client_id = fake.default_client.client_id
    issuers = {fake.issuer, "accounts.google.com"}
    allowed_origins = {ORIGIN, "https://accounts.google.com"}

    @app.get("/page")
    def page():
        nonce = secrets.token_urlsafe(32)
        nonces = session.get("n", {})
        nonces[nonce] = int(time.time()) + 600
        session["n"] = nonces
        return (
            '<div id="g_id_onload" data-client_id="{}" data-login_uri="{}" '
            'data-nonce="{}" data-auto_prompt="false"></div>'
            '<div class="g_id_signin" data-type="standard"></div>'
            '<script src="https://accounts.google.com/gsi/client" async defer></script>'
        ).format(escape(client_id), escape(request.host_url + "gsi"), escape(nonce))

    @app.post("/gsi")
    def gsi():
        if request.headers.get("Origin") not in allowed_origins:
            abort(400)
        cookie = request.cookies.get("g_csrf_token", "")
        field = request.form.get("g_csrf_token", "")
        if not cookie or not hmac.compare_digest(cookie, field):
            abort(400)
        token = request.form.get("credential", "")
        if len(token) > 16384:
            abort(400)
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        if header.get("alg") != "RS256" or header.get("kid") not in keys:
            abort(400)
        try:
            keys[header["kid"]].verify(
                b64url_decode(signature_b64),
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            abort(400)
        claims = json.loads(b64url_decode(payload_b64))
        now = time.time()
        if (
            claims["iss"] not in issuers
            or claims["aud"] != client_id
            or claims.get("azp", client_id) != client_id
            or claims["exp"] + 60 <= now
            or claims["iat"] - 60 > now
        ):
            abort(400)
        nonces = session.get("n", {})
        expires = nonces.pop(claims.get("nonce", ""), None)
        session["n"] = nonces
        if expires is None or expires < now:
            abort(400)
        session["u"] = {"sub": claims["sub"], "email": claims["email"]}
        current_app.session_interface.regenerate(session)
        return redirect("/", 302)

    return app


def one_sign_in(app, fake) -> tuple[float, float]:
    """Page GET + POST /gsi with a new cookie jar: (wall, CPU) seconds, signing excluded.

    CPU time (this thread's user + system time) is what the sign-in itself
    costs; it barely moves when other processes load the machine, wall time does.
    """
    client = app.test_client()
    wall, cpu = time.perf_counter(), time.thread_time()
    page = client.get("/page")
    wall_spent, cpu_spent = time.perf_counter() - wall, time.thread_time() - cpu
    nonce = _NONCE.search(page.get_data(as_text=True)).group(1)
    credential = fake.gsi_credential(nonce=nonce)  # Google's work: not timed
    csrf = secrets.token_urlsafe(16)
    client.set_cookie("g_csrf_token", csrf)
    wall, cpu = time.perf_counter(), time.thread_time()
    response = client.post(
        "/gsi",
        data={"credential": credential, "g_csrf_token": csrf, "select_by": "btn"},
        headers={"Origin": ORIGIN},
    )
    wall_spent += time.perf_counter() - wall
    cpu_spent += time.thread_time() - cpu
    if page.status_code != 200 or response.status_code != 302:
        raise RuntimeError(f"sign-in failed: {page.status_code} {response.status_code}")
    return wall_spent, cpu_spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--per-round", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)

    from flask_google_flow.testing import FakeGoogle

    fake = FakeGoogle()
    with tempfile.TemporaryDirectory(prefix="gsi-bench-") as tmp, fake.intercept():
        directory = Path(tmp)
        apps = {"ours": make_ours(fake, directory), "floor": make_floor(fake, directory)}
        for app in apps.values():
            for _ in range(args.warmup):
                one_sign_in(app, fake)
        certs_before = fake.request_counts["certs"]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in apps}
        order = list(apps)
        for round_number in range(args.rounds):
            for name in order if round_number % 2 == 0 else reversed(order):
                times[name].extend(one_sign_in(apps[name], fake) for _ in range(args.per_round))
        certs_fetched = fake.request_counts["certs"] - certs_before

    print(f"GIS sign-ins: {args.rounds} rounds x {args.per_round} per implementation")
    for index, clock in enumerate(("wall", "CPU")):
        medians = {}
        for name, values in times.items():
            series = [value[index] for value in values]
            medians[name] = statistics.median(series)
            print(
                f"  {clock:4} {name:5}  median {medians[name] * 1e3:7.3f} ms  "
                f"p90 {percentile(series, 90) * 1e3:7.3f} ms"
            )
        print(f"  {clock:4} ratio ours/floor (median): {medians['ours'] / medians['floor']:.2f}")
    print(f"  certs fetched during the timed sign-ins: {certs_fetched}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
