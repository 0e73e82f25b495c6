"""Security Event Tokens (RFC 8417) pushed by Google's Cross-Account Protection (RISC).

Framework-neutral: :class:`RiscConfigurationCache` keeps the transmitter's
RISC configuration (``issuer`` and ``jwks_uri``, from
``/.well-known/risc-configuration``) cached per its HTTP cache headers, with
a :class:`~flask_google_flow.core.id_token.CertsCache` for its keys;
:func:`verify_security_event_token` checks one SET and
:func:`parse_events` reads its ``events`` claim.

Checks, in order, each failure a :class:`SecurityEventError` whose ``err`` is
the RFC 8935 §2.4 error code the receiver answers with:

=========================  ====================================================
``err``                    check
=========================  ====================================================
``invalid_request``        three base64url parts of JSON objects, at most
                           :data:`MAX_SET_LENGTH` long; ``typ``, when present,
                           is ``secevent+jwt`` or ``JWT``; ``jti``, ``iat`` and a non-empty
                           ``events`` object present; ``iat`` within the window
``invalid_key``            signed with RS256 by a key the ``jwks_uri`` publishes
``authentication_failed``  the signature verifies with that key
``invalid_issuer``         ``iss`` is the configuration's issuer
``invalid_audience``       ``aud`` (a string or a list) names one of our client ids
=========================  ====================================================

No description contains the token or a claim value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..exceptions import IDTokenError, MalformedResponseError
from .id_token import CertsCache, FetchFunction, parse_cache_lifetime, verify_signed_jwt
from .provider import check_endpoint_url

__all__ = [
    "EVENT_TYPES",
    "GOOGLE_RISC_CONFIGURATION_URL",
    "MAX_SET_LENGTH",
    "RiscConfiguration",
    "RiscConfigurationCache",
    "SecurityEvent",
    "SecurityEventError",
    "parse_events",
    "refresh_token_identifiers",
    "token_identifier_key",
    "verify_security_event_token",
]

GOOGLE_RISC_CONFIGURATION_URL = "https://accounts.google.com/.well-known/risc-configuration"
"""Where Google publishes its RISC configuration."""

MAX_SET_LENGTH = 16384
"""Request bodies (SETs) longer than this many bytes are refused before any parsing."""

_RISC = "https://schemas.openid.net/secevent/risc/event-type/"
_OAUTH = "https://schemas.openid.net/secevent/oauth/event-type/"

EVENT_TYPES: dict[str, str] = {
    "sessions-revoked": _RISC + "sessions-revoked",
    "tokens-revoked": _OAUTH + "tokens-revoked",
    "token-revoked": _OAUTH + "token-revoked",
    "account-disabled": _RISC + "account-disabled",
    "account-enabled": _RISC + "account-enabled",
    "account-credential-change-required": _RISC + "account-credential-change-required",
    "verification": _RISC + "verification",
}
"""The event types Google sends, by short name (the URI's last part)."""

_SHORT_NAMES = {uri: name for name, uri in EVENT_TYPES.items()}

#: IDTokenError reasons of the shared JWS checks, as RFC 8935 error codes.
_JWS_ERRORS = {
    "malformed": ("invalid_request", "the request body is not a well-formed signed JWT"),
    "algorithm": ("invalid_key", "the SET is not signed with RS256"),
    "unknown_key": ("invalid_key", "the SET is signed with a key the transmitter does not publish"),
    "signature": ("authentication_failed", "the SET's signature does not verify"),
}
#: RFC 8417 §2.3 asks for ``secevent+jwt``; plain ``JWT`` is accepted too (what issuers send).
_ACCEPTED_TYP = frozenset({"secevent+jwt", "application/secevent+jwt", "jwt"})


class SecurityEventError(Exception):
    """A SET was refused; ``err`` is its RFC 8935 error code.

    :ivar err: ``invalid_request``, ``invalid_key``, ``invalid_issuer``,
        ``invalid_audience`` or ``authentication_failed``.
    :ivar description: a sentence for the transmitter's logs (no token, no claim value).
    """

    def __init__(self, err: str, description: str) -> None:
        super().__init__(f"{err}: {description}")
        self.err = err
        self.description = description


@dataclass(frozen=True)
class RiscConfiguration:
    """A transmitter's RISC configuration: the SETs' ``iss`` and where its keys are."""

    issuer: str
    jwks_uri: str

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RiscConfiguration:
        """Read ``issuer`` and ``jwks_uri`` from a ``risc-configuration`` document.

        :raises MalformedResponseError: either is missing, or ``jwks_uri`` is
            not https (plain http only for loopback hosts).
        """
        values = {}
        for name in ("issuer", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedResponseError(
                    f"the RISC configuration lacks {name!r}", endpoint="risc-configuration"
                )
            values[name] = value
        try:
            check_endpoint_url(values["jwks_uri"], name="RISC jwks_uri")
        except ValueError as exc:
            raise MalformedResponseError(
                f"the RISC configuration is not acceptable: {exc}", endpoint="risc-configuration"
            ) from None
        return cls(**values)


class RiscConfigurationCache:
    """The RISC configuration and its signing keys, cached per the HTTP cache headers.

    Thread-safe; one per app. The keys live in a
    :class:`~flask_google_flow.core.id_token.CertsCache` (the same cache and
    refetch rules as the sign-in keys), replaced only when the configuration
    names another ``jwks_uri``.

    :param fetch: ``fetch(url) -> (json_object, headers)``, e.g.
        ``functools.partial(provider_client.get_json, endpoint="risc-configuration")``.
    :param url: the configuration's URL.
    :param fetch_keys: the same for the keys (``endpoint="risc-certs"``).
    :param clock: the time source.
    """

    def __init__(
        self,
        fetch: FetchFunction,
        url: str,
        *,
        fetch_keys: FetchFunction,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = check_endpoint_url(url, name="RISC configuration")
        self._fetch = fetch
        self._fetch_keys = fetch_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._configuration: RiscConfiguration | None = None
        self._certs: CertsCache | None = None
        self._expires_at = float("-inf")
        #: How many times the configuration was fetched (for tests and metrics).
        self.fetch_count = 0

    def current(self) -> tuple[RiscConfiguration, CertsCache]:
        """The configuration and the key cache for its ``jwks_uri``, fetching if stale.

        A failed refetch keeps serving the previous configuration when there is one.

        :raises ProviderError: the first fetch failed.
        :raises MalformedResponseError: the document is not a usable configuration.
        """
        now = self._clock()
        configuration, certs = self._configuration, self._certs
        if configuration is not None and certs is not None and now < self._expires_at:
            return configuration, certs
        with self._lock:
            now = self._clock()
            if self._configuration is None or now >= self._expires_at:
                try:
                    self.fetch_count += 1
                    document, headers = self._fetch(self.url)
                    fresh = RiscConfiguration.from_document(document)
                except Exception:
                    if self._configuration is None:
                        raise
                    fresh = self._configuration  # keep the last good one, retry soon
                    headers = {"Cache-Control": "max-age=60"}
                self._expires_at = now + parse_cache_lifetime(headers, now=now)
                if self._certs is None or self._certs.url != fresh.jwks_uri:
                    self._certs = CertsCache(self._fetch_keys, fresh.jwks_uri, clock=self._clock)
                self._configuration = fresh
            assert self._configuration is not None and self._certs is not None
            return self._configuration, self._certs


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SecurityEventError(
            "invalid_request", f"the SET's {name} claim is missing or not a number"
        )
    return value


def verify_security_event_token(
    token: str,
    *,
    certs: CertsCache,
    issuer: str,
    audiences: Collection[str],
    max_age: float,
    leeway: float = 60.0,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a SET per Google's RISC guide and RFC 8417; return its claims.

    SETs have no ``exp`` (they describe past events): freshness is ``iat``
    within ``[now - max_age - leeway, now + leeway]``. Replays within that
    window are the caller's job (the ``jti``).

    :param token: the request body, decoded as ASCII.
    :param certs: the transmitter's keys (the RISC configuration's ``jwks_uri``).
    :param issuer: the configuration's ``issuer``; ``iss`` must equal it.
    :param audiences: our client ids; ``aud`` must name one.
    :param max_age: the oldest ``iat`` accepted, in seconds before ``now``.
    :param leeway: allowed clock skew in seconds.
    :param now: the current time (unix seconds); default :func:`time.time`.
    :raises SecurityEventError: a check failed (see the module table).
    :raises ProviderError: fetching the keys failed.
    """
    if not isinstance(token, str) or len(token) > MAX_SET_LENGTH:
        raise SecurityEventError("invalid_request", "the request body is not a SET")
    try:
        header, claims = verify_signed_jwt(token, certs=certs)
    except IDTokenError as exc:
        err, description = _JWS_ERRORS.get(exc.reason, _JWS_ERRORS["malformed"])
        raise SecurityEventError(err, description) from None
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP):
        raise SecurityEventError("invalid_request", "the JWT's typ is not that of a SET")
    if claims.get("iss") != issuer:
        raise SecurityEventError("invalid_issuer", "the SET was issued by an unexpected issuer")
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in named):
        raise SecurityEventError("invalid_audience", "the SET is not meant for this app")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise SecurityEventError("invalid_request", "the SET has no usable jti claim")
    events = claims.get("events")
    if not isinstance(events, dict) or not events:
        raise SecurityEventError("invalid_request", "the SET has no events claim")
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in events.items()):
        raise SecurityEventError("invalid_request", "the SET's events claim is malformed")
    if now is None:
        now = time.time()
    iat = _number(claims, "iat")
    if iat > now + leeway:
        raise SecurityEventError("invalid_request", "the SET was issued in the future")
    if iat < now - max_age - leeway:
        raise SecurityEventError("invalid_request", "the SET is too old")
    return claims


@dataclass(frozen=True)
class SecurityEvent:
    """One entry of a SET's ``events`` claim.

    :ivar type: the event type URI.
    :ivar name: its short name (``sessions-revoked``...), ``None`` for a type
        Google does not document.
    :ivar payload: the event's JSON object (``subject``, ``reason``, ``state``...).
    :ivar sub: the Google account id of an ``iss-sub`` or ``id_token_claims``
        subject from our issuer, else ``None``.
    :ivar token: for an ``oauth_token`` subject, ``(token_type,
        token_identifier_alg, token)``, else ``None``.
    """

    type: str
    name: str | None
    payload: Mapping[str, Any]
    sub: str | None
    token: tuple[str, str, str] | None


def _same_issuer(value: Any, issuers: Collection[str]) -> bool:
    if not isinstance(value, str):
        return False
    return value.rstrip("/") in {i.rstrip("/") for i in issuers}


def parse_events(claims: Mapping[str, Any], *, issuers: Collection[str]) -> list[SecurityEvent]:
    """The events of verified SET claims, with their subjects read.

    :param claims: what :func:`verify_security_event_token` returned.
    :param issuers: issuers whose ``sub`` values are our users' (the sign-in
        issuer and the SET issuer; compared without a trailing slash).
    """
    result = []
    for event_type, payload in claims["events"].items():
        subject = payload.get("subject")
        sub = token = None
        if isinstance(subject, dict):
            kind = subject.get("subject_type")
            candidate = subject.get("sub")
            if (
                kind in ("iss-sub", "id_token_claims")
                and isinstance(candidate, str)
                and candidate
                and _same_issuer(subject.get("iss", next(iter(issuers), None)), issuers)
            ):
                sub = candidate
            fields = (subject.get(k) for k in ("token_type", "token_identifier_alg", "token"))
            values = tuple(fields)
            if kind == "oauth_token" and all(isinstance(v, str) and v for v in values):
                token = values  # type: ignore[assignment]
        result.append(SecurityEvent(event_type, _SHORT_NAMES.get(event_type), payload, sub, token))
    return result


def refresh_token_identifiers(refresh_token: str) -> tuple[tuple[str, str], ...]:
    """How Google names ``refresh_token`` in ``token-revoked`` events: ``(alg, token)`` pairs.

    ``prefix``: its first 16 characters; ``hash_base64_sha512_sha512``: the
    base64 of SHA-512 of the SHA-512 digest of its UTF-8 bytes.
    """
    inner = hashlib.sha512(refresh_token.encode("utf-8")).digest()
    double = base64.b64encode(hashlib.sha512(inner).digest()).decode("ascii")
    return (("prefix", refresh_token[:16]), ("hash_base64_sha512_sha512", double))


def token_identifier_key(alg: str, token: str) -> str | None:
    """A storage key (hex) for a token identifier, the same for every spelling of it.

    The hash may come in base64 or base64url, with or without padding.
    ``None`` for an algorithm Google does not use or a malformed value.
    """
    if alg == "prefix":
        if len(token) != 16:
            return None
        material = b"prefix:" + token.encode("utf-8")
    elif alg == "hash_base64_sha512_sha512":
        text = token.strip().replace("-", "+").replace("_", "/")
        try:
            digest = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(digest) != 64:
            return None
        material = b"sha512x2:" + digest
    else:
        return None
    return hashlib.sha256(material).hexdigest()
