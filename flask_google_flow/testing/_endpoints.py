"""Where the fake's endpoints live: Google's real URLs, or one base URL."""

from __future__ import annotations

from dataclasses import dataclass

AUTHORIZATION_PATHS = ("/o/oauth2/v2/auth", "/o/oauth2/auth")
TOKEN_PATHS = ("/token", "/o/oauth2/token", "/oauth2/v4/token")
REVOCATION_PATHS = ("/revoke", "/o/oauth2/revoke")
USERINFO_PATHS = ("/v1/userinfo", "/oauth2/v3/userinfo")
CERTS_PEM_PATH = "/oauth2/v1/certs"
JWKS_PATH = "/oauth2/v3/certs"
DISCOVERY_PATH = "/.well-known/openid-configuration"

GOOGLE_ISSUER = "https://accounts.google.com"
_GOOGLE_URLS = {
    "authorization": ("https://accounts.google.com/o/oauth2/v2/auth",),
    "authorization_aliases": ("https://accounts.google.com/o/oauth2/auth",),
    "token": ("https://oauth2.googleapis.com/token",),
    "token_aliases": (
        "https://accounts.google.com/o/oauth2/token",
        "https://www.googleapis.com/oauth2/v4/token",
    ),
    "revocation": ("https://oauth2.googleapis.com/revoke",),
    "revocation_aliases": ("https://accounts.google.com/o/oauth2/revoke",),
    "userinfo": ("https://openidconnect.googleapis.com/v1/userinfo",),
    "userinfo_aliases": ("https://www.googleapis.com/oauth2/v3/userinfo",),
}


@dataclass(frozen=True)
class Endpoints:
    """The fake's endpoint URLs.

    :ivar issuer: the ``iss`` of ID tokens and authorization responses.
    :ivar authorization: the authorization (consent) endpoint.
    :ivar token: the token endpoint.
    :ivar userinfo: the userinfo endpoint.
    :ivar revocation: the revoke endpoint.
    :ivar certs_pem: signing certificates as ``{kid: PEM}`` (Google's v1 certs).
    :ivar jwks: signing keys as a JWKS (Google's v3 certs, ``jwks_uri``).
    :ivar discovery: the OpenID discovery document.
    :ivar aliases: older URLs Google still answers on (``/o/oauth2/auth`` of
        downloaded client-secrets files, ``/oauth2/v4/token``, ...), by endpoint name.
    """

    issuer: str
    authorization: str
    token: str
    userinfo: str
    revocation: str
    certs_pem: str
    jwks: str
    discovery: str
    aliases: dict[str, tuple[str, ...]]

    @classmethod
    def google(cls) -> Endpoints:
        """Google's real URLs (for in-process interception)."""
        return cls(
            issuer=GOOGLE_ISSUER,
            authorization=_GOOGLE_URLS["authorization"][0],
            token=_GOOGLE_URLS["token"][0],
            userinfo=_GOOGLE_URLS["userinfo"][0],
            revocation=_GOOGLE_URLS["revocation"][0],
            certs_pem="https://www.googleapis.com" + CERTS_PEM_PATH,
            jwks="https://www.googleapis.com" + JWKS_PATH,
            discovery=GOOGLE_ISSUER + DISCOVERY_PATH,
            aliases={
                "authorization": _GOOGLE_URLS["authorization_aliases"],
                "token": _GOOGLE_URLS["token_aliases"],
                "revocation": _GOOGLE_URLS["revocation_aliases"],
                "userinfo": _GOOGLE_URLS["userinfo_aliases"],
            },
        )

    @classmethod
    def under(cls, base_url: str, *, authorization_base: str | None = None) -> Endpoints:
        """Every endpoint under ``base_url``, which is also the issuer.

        :param authorization_base: serve the authorization endpoint (the one
            page a browser visits) under this URL instead, e.g. the plain-http
            front channel of the real server.
        """
        base = base_url.rstrip("/")
        front = authorization_base.rstrip("/") if authorization_base else base
        return cls(
            issuer=base,
            authorization=front + AUTHORIZATION_PATHS[0],
            token=base + TOKEN_PATHS[0],
            userinfo=base + USERINFO_PATHS[0],
            revocation=base + REVOCATION_PATHS[0],
            certs_pem=base + CERTS_PEM_PATH,
            jwks=base + JWKS_PATH,
            discovery=base + DISCOVERY_PATH,
            aliases={
                "authorization": tuple(front + path for path in AUTHORIZATION_PATHS[1:]),
                "token": tuple(base + path for path in TOKEN_PATHS[1:]),
                "revocation": tuple(base + path for path in REVOCATION_PATHS[1:]),
                "userinfo": tuple(base + path for path in USERINFO_PATHS[1:]),
            },
        )

    def all_urls(self) -> tuple[str, ...]:
        """Every URL the fake answers on, aliases included."""
        urls = [
            self.authorization,
            self.token,
            self.userinfo,
            self.revocation,
            self.certs_pem,
            self.jwks,
            self.discovery,
        ]
        for aliases in self.aliases.values():
            urls.extend(aliases)
        return tuple(urls)

    def authorization_urls(self) -> tuple[str, ...]:
        """The authorization endpoint and its aliases."""
        return (self.authorization, *self.aliases.get("authorization", ()))
