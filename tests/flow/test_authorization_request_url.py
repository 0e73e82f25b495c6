"""The pure authorization-URL builder shared by Flow and the Flask extension."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

from flask_google_flow.flow import authorization_request_url, code_challenge_s256


def test_required_parameters_first_then_the_rest_in_order_without_empty_ones():
    url = authorization_request_url(
        "https://idp.example/auth",
        "cid",
        redirect_uri="http://127.0.0.1:5000/cb",
        scope=["openid", "email"],
        state="st",
        code_challenge="ch",
        code_challenge_method="S256",
        prompt=None,
        login_hint="",
        nonce="n o",
    )
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "idp.example" and parts.path == "/auth"
    assert parse_qsl(parts.query) == [
        ("response_type", "code"),
        ("client_id", "cid"),
        ("redirect_uri", "http://127.0.0.1:5000/cb"),
        ("scope", "openid email"),
        ("state", "st"),
        ("code_challenge", "ch"),
        ("code_challenge_method", "S256"),
        ("nonce", "n o"),
    ]
    assert "+" not in parts.query  # spaces as %20


def test_an_endpoint_with_a_query_gets_an_ampersand():
    url = authorization_request_url(
        "https://idp.example/auth?tenant=t", "cid", redirect_uri=None, scope="openid", state="s"
    )
    assert url.startswith("https://idp.example/auth?tenant=t&response_type=code&")


def test_code_challenge_is_rfc7636_s256():
    # RFC 7636 appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    expected = base64.urlsafe_b64encode(hashlib.sha256(b"x" * 43).digest()).rstrip(b"=")
    assert code_challenge_s256("x" * 43) == expected.decode()
