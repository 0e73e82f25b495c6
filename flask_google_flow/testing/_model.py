"""The records the fake Google keeps: accounts, clients, codes and tokens; scope rules."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: Google's short identity scopes and the URLs it reports them as in token responses.
SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
_SHORT_BY_URL = {url: short for short, url in SCOPE_ALIASES.items()}
GOOGLE_API_SCOPE_PREFIX = "https://www.googleapis.com/auth/"


def canonical_scope(scope: str) -> str:
    """Return the short name of an identity scope (``email``, ``profile``), else ``scope``."""
    return _SHORT_BY_URL.get(scope, scope)


def is_known_scope(scope: str) -> bool:
    """Whether Google would accept ``scope`` in an authorization request."""
    scope = canonical_scope(scope)
    return scope in {"openid", "email", "profile"} or scope.startswith(GOOGLE_API_SCOPE_PREFIX)


def canonical_scopes(scopes: object) -> tuple[str, ...]:
    """Split a space-separated scope string (or iterable) into unique canonical scopes."""
    items = scopes.split() if isinstance(scopes, str) else list(scopes or ())  # type: ignore[call-overload]
    result: list[str] = []
    for item in items:
        scope = canonical_scope(item)
        if scope not in result:
            result.append(scope)
    return tuple(result)


def reported_scope(scopes: tuple[str, ...], *, expand_aliases: bool) -> str:
    """Format granted scopes like Google's token response (identity scopes as URLs)."""
    if expand_aliases:
        return " ".join(SCOPE_ALIASES.get(scope, scope) for scope in scopes)
    return " ".join(scopes)


def is_loopback_http(uri: str) -> bool:
    """Whether ``uri`` is a plain-http loopback URI (RFC 8252 §7.3)."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


@dataclass
class Account:
    """A Google account the fake can sign in.

    :ivar email: the address, also the account's key in :attr:`FakeGoogle.accounts`.
    :ivar sub: the stable subject id (Google's are 21-digit numbers).
    :ivar name: full name; ``given_name``/``family_name`` are derived from it.
    :ivar hosted_domain: the Workspace domain (``hd`` claim), ``None`` for consumer accounts.
    :ivar email_verified: the ``email_verified`` claim.
    :ivar picture: a profile picture URL.
    """

    email: str
    sub: str
    name: str
    hosted_domain: str | None = None
    email_verified: bool = True
    picture: str | None = None

    @property
    def given_name(self) -> str:
        """The first word of ``name``."""
        return self.name.split(" ", 1)[0]

    @property
    def family_name(self) -> str | None:
        """The rest of ``name``, or ``None`` for a one-word name."""
        parts = self.name.split(" ", 1)
        return parts[1] if len(parts) > 1 else None

    def claims(self, scopes: tuple[str, ...]) -> dict[str, object]:
        """The identity claims ``scopes`` release (``sub`` always; ``hd`` for Workspace)."""
        claims: dict[str, object] = {"sub": self.sub}
        if "email" in scopes:
            claims.update(email=self.email, email_verified=self.email_verified)
        if "profile" in scopes:
            claims["name"] = self.name
            claims["given_name"] = self.given_name
            if self.family_name:
                claims["family_name"] = self.family_name
            if self.picture:
                claims["picture"] = self.picture
        if self.hosted_domain and ("email" in scopes or "profile" in scopes):
            claims["hd"] = self.hosted_domain
        return claims


@dataclass
class Client:
    """An OAuth client registered with the fake.

    :ivar client_id: the client id.
    :ivar client_secret: the secret the token endpoint checks.
    :ivar client_type: ``"web"`` or ``"installed"``.
    :ivar redirect_uris: registered redirect URIs, matched exactly. Installed
        clients also accept any plain-http loopback URI on any port, as Google does.
    """

    client_id: str
    client_secret: str
    client_type: str = "web"
    redirect_uris: list[str] = field(default_factory=list)

    def accepts_redirect_uri(self, uri: str) -> bool:
        """Whether ``uri`` may receive this client's authorization responses."""
        if uri in self.redirect_uris:
            return True
        return self.client_type == "installed" and is_loopback_http(uri)


@dataclass
class AuthorizationCode:
    """An issued authorization code and what it is bound to."""

    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    sub: str
    scopes: tuple[str, ...]
    nonce: str | None
    issue_refresh_token: bool
    expires_at: float
    auth_time: float
    used: bool = False
    issued_tokens: list[str] = field(default_factory=list)


@dataclass
class RefreshToken:
    """An issued refresh token."""

    token: str
    client_id: str
    sub: str
    scopes: tuple[str, ...]
    revoked: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class AccessToken:
    """An issued access token."""

    token: str
    client_id: str
    sub: str
    scopes: tuple[str, ...]
    expires_at: float
    refresh_token: str | None = None
    revoked: bool = False


class OAuthError(Exception):
    """A token, userinfo or revoke request refused with an RFC 6749 §5.2 error.

    :ivar error: the error code (``invalid_grant``, ``invalid_client``, ...).
    :ivar description: the ``error_description``.
    :ivar status: the HTTP status (400 or 401).
    """

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        self.error = error
        self.description = description
        self.status = status
        super().__init__(f"{error}: {description}")
