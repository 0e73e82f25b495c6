"""The fake Google's Cross-Account Protection (RISC): its SETs, configuration and stream API.

:class:`FakeRisc` (``fake.risc``) signs security event tokens with a key of
its own (not the ID-token key), publishes it at its ``jwks_uri``, serves a
``/.well-known/risc-configuration`` and the RISC API's ``stream``,
``stream:update`` and ``stream:verify`` endpoints, which accept only a bearer
JWT self-signed by a service account it issued
(:meth:`FakeRisc.service_account_info`) with Google's RISC audience.
``stream:verify`` signs a ``verification`` event and pushes it to the
registered receiver when that is on a loopback address.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from ..core.hosts import is_loopback_host
from ..core.id_token import CertsCache, verify_signed_jwt
from ..core.security_events import EVENT_TYPES
from ..exceptions import FlowError
from ._keys import SigningKey, pooled_signing_key

if TYPE_CHECKING:
    from .fake_google import FakeGoogle

__all__ = ["RISC_API_AUDIENCE", "FakeRisc"]

RISC_CONFIGURATION_PATH = "/.well-known/risc-configuration"
RISC_JWKS_PATH = "/risc/v1/certs"
RISC_API_PATHS = {
    "risc_stream": "/v1beta/stream",
    "risc_stream_update": "/v1beta/stream:update",
    "risc_stream_verify": "/v1beta/stream:verify",
}
RISC_API_AUDIENCE = "https://risc.googleapis.com/google.identity.risc.v1beta.RiscManagementService"
"""The ``aud`` of the bearer JWT the RISC API accepts."""
PUSH_DELIVERY = "https://schemas.openid.net/secevent/risc/delivery-method/push"
#: Pool indexes of the fake's RISC key and service-account keys (far from rotations).
_RISC_KEY_INDEX = 100
_SERVICE_ACCOUNT_KEY_INDEX = 101


def _json(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


def _no_stream() -> Response:
    return _json({"error": {"code": 404, "message": "Project has no RISC configuration."}}, 404)


class FakeRisc:
    """Cross-Account Protection of one :class:`~flask_google_flow.testing.FakeGoogle`.

    :ivar stream: the stream configuration registered by ``stream:update``
        (``{"delivery": {...}, "events_requested": [...]}``), or ``None``.
    :ivar sent: every SET :meth:`event` signed, oldest first.
    :ivar deliveries: ``(url, HTTP status or error name)`` of each push.
    """

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        self.signing_key: SigningKey = pooled_signing_key(_RISC_KEY_INDEX)
        self.stream: dict[str, Any] | None = None
        self.sent: list[str] = []
        self.deliveries: list[tuple[str, int | str]] = []
        self._accounts: dict[str, SigningKey] = {}
        self._lock = threading.Lock()

    # -- where it lives -----------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The ``iss`` of its SETs: the fake's issuer with a trailing slash, as Google's."""
        return self.fake.issuer.rstrip("/") + "/"

    def _base(self, google: str) -> str:
        return self.fake.base_url or google

    @property
    def configuration_url(self) -> str:
        """Where the RISC configuration is served."""
        return self._base("https://accounts.google.com") + RISC_CONFIGURATION_PATH

    @property
    def jwks_uri(self) -> str:
        """Where the RISC signing key is published."""
        return self._base("https://www.googleapis.com") + RISC_JWKS_PATH

    @property
    def api_base_url(self) -> str:
        """The RISC API's base (``.../v1beta``), for ``flask-google-flow-risc --api-base-url``."""
        return self._base("https://risc.googleapis.com") + "/v1beta"

    def urls(self) -> tuple[str, ...]:
        """Every URL the RISC part answers on (for in-process interception)."""
        api_root = self._base("https://risc.googleapis.com")
        return (
            self.configuration_url,
            self.jwks_uri,
            *(api_root + path for path in RISC_API_PATHS.values()),
        )

    @staticmethod
    def rules() -> list[Rule]:
        """The werkzeug routing rules of the RISC endpoints."""
        return [
            Rule(RISC_CONFIGURATION_PATH, endpoint="risc_configuration", methods=["GET"]),
            Rule(RISC_JWKS_PATH, endpoint="risc_jwks", methods=["GET"]),
            Rule(RISC_API_PATHS["risc_stream"], endpoint="risc_stream", methods=["GET"]),
            *(
                Rule(RISC_API_PATHS[name], endpoint=name, methods=["POST"])
                for name in ("risc_stream_update", "risc_stream_verify")
            ),
        ]

    def configuration(self) -> dict[str, Any]:
        """The ``risc-configuration`` document."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "delivery_methods_supported": [PUSH_DELIVERY],
            "add_subject_endpoint": self.api_base_url + "/subjects:add",
            "remove_subject_endpoint": self.api_base_url + "/subjects:remove",
        }

    # -- security event tokens --------------------------------------------------------

    def claims(
        self,
        event_type: str,
        *,
        sub: str | None = None,
        audience: str | None = None,
        subject: dict[str, Any] | None = None,
        iat: float | None = None,
        jti: str | None = None,
        **attributes: Any,
    ) -> dict[str, Any]:
        """The claims of a SET (see :meth:`event`)."""
        uri = EVENT_TYPES.get(event_type, event_type)
        if subject is None and sub is not None:
            subject = {"subject_type": "iss-sub", "iss": self.issuer, "sub": sub}
        payload: dict[str, Any] = {k: v for k, v in attributes.items() if v is not None}
        if subject is not None:
            payload["subject"] = subject
        return {
            "iss": self.issuer,
            "aud": audience or self.fake.default_client.client_id,
            "iat": int(self.fake.clock() if iat is None else iat),
            "jti": jti or secrets.token_hex(16),
            "events": {uri: payload},
        }

    def event(
        self,
        event_type: str,
        *,
        sub: str | None = None,
        account: str | None = None,
        refresh_token: str | None = None,
        token_identifier_alg: str = "hash_base64_sha512_sha512",  # noqa: S107 - not a secret
        push_to: str | None = None,
        claims: dict[str, Any] | None = None,
        key: SigningKey | None = None,
        kid: str | None = None,
        **options: Any,
    ) -> str:
        """Sign a SET as Google's Cross-Account Protection would; optionally push it.

        :param event_type: a short name (``"sessions-revoked"``, see
            :data:`~flask_google_flow.core.security_events.EVENT_TYPES`) or a URI.
        :param sub: the Google account id of the ``iss-sub`` subject.
        :param account: an account's email instead of ``sub``.
        :param refresh_token: for ``token-revoked``: the refresh token the
            ``oauth_token`` subject identifies (by ``token_identifier_alg``,
            ``"hash_base64_sha512_sha512"`` or ``"prefix"``).
        :param push_to: POST the SET to this receiver URL (loopback only).
        :param claims: use these claims as they are (for attacks), instead of building them.
        :param key: sign with another key (for attacks); ``kid`` overrides the header's.
        :param options: ``audience``, ``iat``, ``jti``, ``subject`` and event
            attributes such as ``reason="hijacking"`` or ``state="..."``.
        :returns: the compact SET.
        """
        if account is not None:
            sub = self.fake.accounts[account].sub
        if refresh_token is not None:
            from ..core.security_events import refresh_token_identifiers

            identifier = dict(refresh_token_identifiers(refresh_token))[token_identifier_alg]
            options["subject"] = {
                "subject_type": "oauth_token",
                "token_type": "refresh_token",
                "token_identifier_alg": token_identifier_alg,
                "token": identifier,
            }
        if claims is None:
            claims = self.claims(event_type, sub=sub, **options)
        token = (key or self.signing_key).sign_jwt(claims, kid=kid)
        with self._lock:
            self.sent.append(token)
        if push_to is not None:
            self.push(push_to, token)
        return token

    def push(self, url: str, token: str) -> int | str:
        """POST *token* to a receiver on a loopback address (RFC 8935); its status.

        Uses :mod:`urllib` (not ``requests``), so it reaches a real server even
        while ``requests`` calls are intercepted.

        :raises ValueError: *url* is not on a loopback host (tests stay on 127.0.0.1).
        """
        if not is_loopback_host(urlsplit(url).hostname or ""):
            raise ValueError("the fake pushes security events to loopback addresses only")
        request = urllib.request.Request(  # noqa: S310 - loopback http(s) only, checked above
            url,
            data=token.encode("ascii"),
            method="POST",
            headers={"Content-Type": "application/secevent+jwt", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                result: int | str = response.status
        except urllib.error.HTTPError as exc:
            result = exc.code
        except OSError as exc:
            result = type(exc).__name__
        with self._lock:
            self.deliveries.append((url, result))
        return result

    # -- service accounts and the RISC API ------------------------------------------------

    def service_account_info(
        self, email: str = "risc-admin@fake-project.iam.gserviceaccount.com"
    ) -> dict[str, str]:
        """A service-account key (the JSON of a key file) the RISC API will accept.

        :returns: a mapping to ``json.dump`` into a file for ``flask-google-flow-risc``.
        """
        key = pooled_signing_key(_SERVICE_ACCOUNT_KEY_INDEX)
        with self._lock:
            self._accounts[email] = key
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        return {
            "type": "service_account",
            "project_id": "fake-google-testing",
            "private_key_id": key.kid,
            "private_key": pem,
            "client_email": email,
            "client_id": "100000000000000000001",
            "token_uri": self.fake.endpoints.token,
        }

    def _authorized(self, request: Request) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "bearer" or not auth.token:
            return False
        with self._lock:
            keys = {"keys": [dict(k.jwk) for k in self._accounts.values()]}
        if not keys["keys"]:
            return False
        certs = CertsCache(lambda _url: (keys, {}), "fake://service-accounts")
        try:
            _header, claims = verify_signed_jwt(auth.token, certs=certs)
        except FlowError:
            return False
        now = self.fake.clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        return (
            claims.get("aud") == RISC_API_AUDIENCE
            and claims.get("iss") in self._accounts
            and claims.get("sub") == claims.get("iss")
            and isinstance(exp, (int, float))
            and isinstance(iat, (int, float))
            and iat - 60 <= now < exp
        )

    def respond(self, endpoint: str, request: Request) -> Response:
        """Answer one request to a RISC endpoint (called by the fake's WSGI app)."""
        if endpoint == "risc_configuration":
            return _json(self.configuration(), **{"Cache-Control": "public, max-age=3600"})
        if endpoint == "risc_jwks":
            body = {"keys": [dict(self.signing_key.jwk)]}
            return _json(body, **{"Cache-Control": "public, max-age=3600"})
        if not self._authorized(request):
            return _json({"error": {"code": 401, "message": "Unauthorized."}}, 401)
        if endpoint == "risc_stream":
            if self.stream is None:
                return _json(
                    {"error": {"code": 404, "message": "Project has no RISC configuration."}}, 404
                )
            return _json(self.stream)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _json({"error": {"code": 400, "message": "Invalid JSON payload."}}, 400)
        if endpoint == "risc_stream_update":
            return self._update(body)
        return self._verify(body)

    def _update(self, body: dict[str, Any]) -> Response:
        delivery = body.get("delivery")
        if not isinstance(delivery, dict) or not isinstance(delivery.get("url"), str):
            message = "Stream configuration must contain delivery field."
            return _json({"error": {"code": 400, "message": message}}, 400)
        events = body.get("events_requested")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            message = "Stream configuration must contain events_requested field."
            return _json({"error": {"code": 400, "message": message}}, 400)
        parts = urlsplit(delivery["url"])
        loopback = parts.scheme == "http" and is_loopback_host(parts.hostname or "")
        if delivery.get("delivery_method") != PUSH_DELIVERY or not (
            parts.scheme == "https" or loopback
        ):
            message = "The delivery endpoint must be an HTTPS URL."
            return _json({"error": {"code": 403, "message": message}}, 403)
        with self._lock:
            self.stream = {"delivery": dict(delivery), "events_requested": list(events)}
        return _json(self.stream)

    def _verify(self, body: dict[str, Any]) -> Response:
        stream = self.stream
        if stream is None:
            return _json(
                {"error": {"code": 404, "message": "Project has no RISC configuration."}}, 404
            )
        state = body.get("state")
        if EVENT_TYPES["verification"] in stream["events_requested"]:
            url = stream["delivery"]["url"]
            loopback = is_loopback_host(urlsplit(url).hostname or "")
            self.event("verification", state=state, push_to=url if loopback else None)
        return _json({})
