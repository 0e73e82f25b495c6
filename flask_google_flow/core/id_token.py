"""ID-token verification (OpenID Connect Core §3.1.3.7) and the signing-key cache.

:class:`CertsCache` keeps the provider's public signing keys, fetched from its
``jwks_uri`` and cached as long as the HTTP cache headers allow, so verifying
an ID token normally costs one RSA signature check and no network call.

:func:`verify_id_token` checks, in this order, and raises an
:class:`~flask_google_flow.exceptions.IDTokenError` whose ``reason`` names the
failed step:

=====================  ==========================================================
reason                 check
=====================  ==========================================================
``malformed``          three base64url parts, JSON objects, claims of the right type
``algorithm``          the header's ``alg`` is exactly ``RS256`` (no ``none``, no HMAC)
``unknown_key``        the header's ``kid`` names a current signing key
``signature``          the RS256 signature verifies with that key
``issuer``             ``iss`` is one of the accepted issuer spellings
``audience``           ``aud`` is the client id, or a list of only the client id;
                       ``azp``, when present, is the client id
``expired``            ``now < exp + leeway``
``issued_in_future``   ``iat <= now + leeway``
``auth_time``          with ``max_age``: ``now <= auth_time + max_age + leeway``
``nonce``              ``nonce`` equals the expected nonce (constant-time compare)
``hosted_domain``      ``hd`` equals the configured Workspace domain
                       (:class:`~flask_google_flow.exceptions.HostedDomainError`)
=====================  ==========================================================

No message contains the token or any claim value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import functools
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..exceptions import HostedDomainError, IDTokenError, MalformedResponseError

__all__ = ["CertsCache", "parse_cache_lifetime", "verify_id_token", "verify_signed_jwt"]

logger = logging.getLogger(__name__)

#: Lifetime of the cached keys when the response has no usable cache header.
DEFAULT_MAX_AGE = 3600.0
#: Longest lifetime honoured, whatever the headers say.
MAX_MAX_AGE = 86400.0
#: ID tokens longer than this are refused before any parsing.
MAX_TOKEN_LENGTH = 16384

_JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()

#: ``fetch(url) -> (json_object, headers)``: how the certs cache fetches the keys.
FetchFunction = Callable[[str], "tuple[dict[str, Any], Mapping[str, str]]"]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64_int(value: Any) -> int:
    if not isinstance(value, str) or not value:
        raise ValueError("not a base64url string")
    return int.from_bytes(_b64decode(value), "big")


def parse_cache_lifetime(
    headers: Mapping[str, str],
    *,
    now: float,
    default: float = DEFAULT_MAX_AGE,
    maximum: float = MAX_MAX_AGE,
) -> float:
    """How many seconds a response may be cached, from its HTTP cache headers.

    ``Cache-Control: no-store`` or ``no-cache`` give 0 (refetch when next
    needed); else ``max-age`` minus ``Age``; else ``Expires`` minus ``Date``
    (or ``now``); else ``default``. The result is clamped to ``[0, maximum]``.

    :param headers: the response headers (any capitalisation).
    :param now: the current time, used for ``Expires`` without ``Date``.
    :param default: the lifetime when no header says anything usable.
    :param maximum: the longest lifetime honoured.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    lifetime: float | None = None
    cache_control = lowered.get("cache-control")
    if cache_control:
        for directive in cache_control.split(","):
            name, _, value = directive.strip().partition("=")
            name = name.strip().lower()
            if name in ("no-store", "no-cache"):
                return 0.0
            if name in ("max-age", "s-maxage") and lifetime is None:
                try:
                    lifetime = float(int(value.strip().strip('"')))
                except ValueError:
                    continue
        if lifetime is not None:
            with contextlib.suppress(ValueError):
                lifetime -= max(0, int(lowered.get("age", "0").strip()))
    if lifetime is None and lowered.get("expires"):
        expires = _http_date(lowered["expires"])
        if expires is None:
            lifetime = 0.0  # RFC 9111 §5.3: an invalid Expires means "already expired"
        else:
            date = _http_date(lowered.get("date", "")) if lowered.get("date") else None
            lifetime = expires - (date if date is not None else now)
    if lifetime is None:
        lifetime = default
    return min(max(lifetime, 0.0), maximum)


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.timestamp()


def _parse_keys(document: Mapping[str, Any]) -> dict[str, rsa.RSAPublicKey]:
    """RSA signing keys by ``kid`` from a JWKS document or Google's v1 PEM map."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    if "keys" in document:
        entries = document["keys"]
        if not isinstance(entries, list):
            raise MalformedResponseError(
                "the certs document's keys is not a list", endpoint="certs"
            )
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
                continue
            if entry.get("alg", "RS256") != "RS256":
                continue
            try:
                numbers = rsa.RSAPublicNumbers(_b64_int(entry.get("e")), _b64_int(entry.get("n")))
                keys[kid] = numbers.public_key()
            except (ValueError, binascii.Error):
                logger.warning("ignoring an unusable key in the certs document")
    else:
        for kid, pem in document.items():
            if not isinstance(pem, str):
                continue
            try:
                data = pem.encode("ascii")
                if b"BEGIN CERTIFICATE" in data:
                    key = x509.load_pem_x509_certificate(data).public_key()
                else:
                    key = serialization.load_pem_public_key(data)
            except ValueError:
                logger.warning("ignoring an unusable certificate in the certs document")
                continue
            if isinstance(key, rsa.RSAPublicKey):
                keys[kid] = key
    if not keys:
        raise MalformedResponseError(
            "the certs document holds no RSA signing key", endpoint="certs"
        )
    return keys


class CertsCache:
    """The provider's signing keys, cached per the HTTP cache headers; thread-safe.

    One instance per app (see :attr:`flask_google_flow.core.provider.ProviderClient.certs`).
    Accepts a JWKS document (``{"keys": [{"kty": "RSA", "kid": ..., "n": ...,
    "e": ...}]}``) and Google's v1 map ``{kid: "-----BEGIN CERTIFICATE-----..."}``.

    Keys are fetched when the cache is empty or expired (see
    :func:`parse_cache_lifetime`). A ``kid`` not in a fresh cache (a key
    rotation) triggers one refetch, but at most one per
    ``min_refetch_interval`` seconds, so tokens with made-up ``kid`` values
    cannot make the app hammer the certs endpoint. Threads finding the cache
    cold or expired at the same time fetch once, not once each.

    :param fetch: ``fetch(url) -> (json_object, headers)``, e.g.
        ``functools.partial(provider_client.get_json, endpoint="certs")``. Its
        exceptions (``ProviderError``) propagate; cached keys are kept.
    :param url: the ``jwks_uri``.
    :param clock: the time source.
    :param min_refetch_interval: the shortest interval between two fetches
        caused by unknown ``kid`` values.
    :param default_max_age: the lifetime when the headers give none.
    :param max_age_cap: the longest lifetime honoured.
    :ivar fetch_count: how many fetches were made (for tests and metrics).
    """

    def __init__(
        self,
        fetch: FetchFunction,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        min_refetch_interval: float = 60.0,
        default_max_age: float = DEFAULT_MAX_AGE,
        max_age_cap: float = MAX_MAX_AGE,
    ) -> None:
        self.url = url
        self.fetch_count = 0
        self.min_refetch_interval = min_refetch_interval
        self._fetch = fetch
        self._clock = clock
        self._default_max_age = default_max_age
        self._max_age_cap = max_age_cap
        self._lock = threading.Lock()
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._expires_at = float("-inf")
        self._last_unknown_kid_refetch = float("-inf")

    @property
    def expires_at(self) -> float:
        """When the cached keys expire (clock seconds; ``-inf`` before the first fetch)."""
        return self._expires_at

    @property
    def kids(self) -> frozenset[str]:
        """The ``kid`` values currently cached."""
        return frozenset(self._keys)

    def _refresh_locked(self, now: float) -> None:
        self.fetch_count += 1
        document, headers = self._fetch(self.url)
        keys = _parse_keys(document)
        lifetime = parse_cache_lifetime(
            headers, now=now, default=self._default_max_age, maximum=self._max_age_cap
        )
        self._keys = keys
        self._expires_at = now + lifetime

    def refresh(self) -> None:
        """Fetch the keys now, whatever the cache state.

        :raises ProviderError: the fetch failed (the old keys are kept).
        :raises MalformedResponseError: the document holds no usable key.
        """
        with self._lock:
            self._refresh_locked(self._clock())

    def get_key(self, kid: str) -> rsa.RSAPublicKey:
        """The public key for ``kid``, fetching the keys if needed.

        :param kid: the ``kid`` of a JWT header.
        :returns: the RSA public key.
        :raises IDTokenError: ``reason="unknown_key"`` when no key has that id,
            even after the (rate-limited) refetch.
        :raises ProviderError: fetching the keys failed.
        :raises MalformedResponseError: the certs document holds no usable key.
        """
        now = self._clock()
        if now < self._expires_at:
            key = self._keys.get(kid)
            if key is not None:
                return key
        with self._lock:
            now = self._clock()
            fetched = False
            if now >= self._expires_at:
                self._refresh_locked(now)
                fetched = True
            key = self._keys.get(kid)
            if (
                key is None
                and not fetched
                and now - self._last_unknown_kid_refetch >= self.min_refetch_interval
            ):
                # A key published after our last fetch (rotation): refetch once.
                # Made-up kids cannot make us refetch more than once an interval.
                self._last_unknown_kid_refetch = now
                self._refresh_locked(now)
                key = self._keys.get(kid)
        if key is None:
            raise IDTokenError("the ID token is signed with an unknown key", reason="unknown_key")
        return key


def _fail(message: str, reason: str) -> IDTokenError:
    return IDTokenError(message, reason=reason)


def _number(claims: Mapping[str, Any], name: str, *, required: bool) -> float | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise _fail(f"the ID token has no {name} claim", "malformed")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"the ID token's {name} claim is not a number", "malformed")
    return value


def _json_object(segment: str, part: str) -> dict[str, Any]:
    """The JSON object in a base64url JWS *segment* (its *part*: header or payload).

    :raises IDTokenError: ``reason`` ``malformed``: not base64url, not JSON or not an object.
    """
    try:
        value = json.loads(_b64decode(segment))
    except (ValueError, binascii.Error):
        raise _fail(f"the ID token's {part} is not valid JSON", "malformed") from None
    if not isinstance(value, dict):
        raise _fail(f"the ID token's {part} is not a JSON object", "malformed")
    return value


@functools.lru_cache(maxsize=16)
def _checked_header(header_b64: str) -> Mapping[str, Any]:
    """The JOSE header of a compact JWS, checked: RS256, no ``crit``, a ``kid``.

    A provider signs every token with one of a few keys, so the same header
    comes again and again; each is parsed once (a header that fails raises
    every time: exceptions are not cached). Copy the result before changing it.

    :raises IDTokenError: ``reason`` is ``malformed``, ``algorithm`` or ``unknown_key``.
    """
    header = _json_object(header_b64, "header")
    if header.get("alg") != "RS256":
        raise _fail("the ID token is not signed with RS256", "algorithm")
    if "crit" in header:
        raise _fail("the ID token uses unsupported critical header extensions", "malformed")
    if not isinstance(header.get("kid"), str):
        raise _fail("the ID token's header names no signing key", "unknown_key")
    return header


def verify_signed_jwt(token: str, *, certs: CertsCache) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a compact RS256 JWS's form and signature; return its header and payload.

    The first four checks of :func:`verify_id_token` (``malformed``,
    ``algorithm``, ``unknown_key``, ``signature``), shared by every signed JWT
    the package accepts (ID tokens, security event tokens). No claim is checked.

    :raises IDTokenError: ``reason`` is ``malformed``, ``algorithm``,
        ``unknown_key`` or ``signature``.
    :raises ProviderError: fetching the signing keys failed.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _JWT_RE.fullmatch(token):
        raise _fail("the ID token is not a well-formed JWT", "malformed")
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = dict(_checked_header(header_b64))
    key = certs.get_key(header["kid"])
    try:
        signature = _b64decode(signature_b64)
        key.verify(
            signature,
            token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii"),
            _PKCS1,
            _SHA256,
        )
    except (InvalidSignature, binascii.Error, ValueError):
        raise _fail("the ID token's signature is invalid", "signature") from None
    claims = _json_object(payload_b64, "payload")
    return header, claims


def verify_id_token(
    token: str,
    *,
    certs: CertsCache,
    audience: str,
    issuers: Collection[str],
    nonce: str | None,
    hosted_domain: str | None = None,
    leeway: float = 60.0,
    now: float | None = None,
    max_age: float | None = None,
) -> dict[str, Any]:
    """Verify an RS256-signed ID token and return its claims.

    :param token: the compact JWS (``header.payload.signature``).
    :param certs: the provider's signing keys.
    :param audience: the OAuth client id; ``aud`` must be it (or a list of
        only it) and ``azp``, when present, must be it.
    :param issuers: the accepted ``iss`` values
        (:attr:`~flask_google_flow.core.provider.ProviderMetadata.issuers`).
    :param nonce: the nonce sent in the authorization request; ``None`` when
        none was sent (then the claim is not checked).
    :param hosted_domain: the Google Workspace domain the account must belong
        to (``hd`` claim, compared case-insensitively); ``None`` for any.
    :param leeway: allowed clock skew in seconds for ``exp``, ``iat`` and
        ``auth_time``.
    :param now: the current time (unix seconds); defaults to :func:`time.time`.
    :param max_age: when the authorization request had ``max_age``, the
        longest time since the user authenticated: checked against
        ``auth_time``, or against ``iat`` if the provider sent no ``auth_time``
        (Google often does not).
    :returns: the claims.
    :raises IDTokenError: a check failed; ``reason`` says which (see the module table).
    :raises HostedDomainError: ``hd`` is missing or another domain.
    :raises ProviderError: fetching the signing keys failed.
    """
    _header, claims = verify_signed_jwt(token, certs=certs)

    if claims.get("iss") not in issuers or not isinstance(claims.get("iss"), str):
        raise _fail("the ID token was issued by an unexpected issuer", "issuer")

    aud = claims.get("aud")
    if isinstance(aud, str):
        aud_ok = aud == audience
    elif isinstance(aud, list) and aud:
        aud_ok = all(isinstance(a, str) and a == audience for a in aud)
    else:
        aud_ok = False
    if not aud_ok:
        raise _fail("the ID token is not meant for this client", "audience")
    if "azp" in claims and claims["azp"] != audience:
        raise _fail("the ID token was issued to another party", "audience")

    if now is None:
        now = time.time()
    exp = _number(claims, "exp", required=True)
    iat = _number(claims, "iat", required=True)
    assert exp is not None and iat is not None
    if now >= exp + leeway:
        raise _fail("the ID token has expired", "expired")
    if iat > now + leeway:
        raise _fail("the ID token was issued in the future", "issued_in_future")
    if max_age is not None:
        auth_time = _number(claims, "auth_time", required=False)
        if auth_time is None:
            auth_time = iat
        if now > auth_time + max_age + leeway:
            raise _fail("the user authenticated too long ago", "auth_time")

    if nonce is not None:
        claimed = claims.get("nonce")
        if not isinstance(claimed, str) or not hmac.compare_digest(
            claimed.encode("utf-8"), nonce.encode("utf-8")
        ):
            raise _fail("the ID token's nonce does not match this sign-in", "nonce")

    if hosted_domain is not None:
        hd = claims.get("hd")
        if not isinstance(hd, str) or hd.lower() != hosted_domain.lower():
            raise HostedDomainError("the account is not in the required Workspace domain")
    return claims
