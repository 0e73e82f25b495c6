"""Where the provider's endpoints come from, and the URL checks made at ``init_app``.

One precedence, highest first:

1. the explicit ``GOOGLE_FLOW_*`` endpoint settings (``GOOGLE_FLOW_TOKEN_ENDPOINT``...);
2. the OpenID discovery document of ``GOOGLE_FLOW_DISCOVERY_URL``;
3. the client secrets' ``auth_uri`` and ``token_uri``;
4. Google's endpoints (:data:`~flask_google_flow.core.provider.GOOGLE`).

A discovery document must name an authorization and a token endpoint, so
with discovery the client secrets' two URLs are never used.

Every URL the app itself configures — the endpoint settings, the discovery
URL, the client secrets' ``auth_uri``/``token_uri``, ``GOOGLE_FLOW_REDIRECT_URI``
and the client secrets' ``redirect_uris`` — is checked against the URL rule
(:func:`~flask_google_flow.core.provider.check_endpoint_url`: https, or plain
http on a loopback host) when ``init_app`` runs; a URL that breaks it raises
:class:`~flask_google_flow.exceptions.InsecureTransportError` naming the
setting. Endpoints a discovery document names are the provider's: a bad one
is a 502 when it is first used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..core.provider import GOOGLE, ProviderMetadata, check_endpoint_url
from ..exceptions import InsecureTransportError
from .config import Settings

__all__ = ["base_metadata", "check_configured_urls"]

logger = logging.getLogger("flask_google_flow")

#: Endpoint settings: the metadata field, its config key and what it is.
_ENDPOINT_SETTINGS = (
    ("authorization_endpoint", "GOOGLE_FLOW_AUTHORIZATION_ENDPOINT", "authorization"),
    ("token_endpoint", "GOOGLE_FLOW_TOKEN_ENDPOINT", "token"),
    ("revocation_endpoint", "GOOGLE_FLOW_REVOCATION_ENDPOINT", "revocation"),
    ("userinfo_endpoint", "GOOGLE_FLOW_USERINFO_ENDPOINT", "userinfo"),
    ("jwks_uri", "GOOGLE_FLOW_JWKS_URI", "certs (JWKS)"),
    ("discovery_url", "GOOGLE_FLOW_DISCOVERY_URL", "discovery"),
)

#: Client-secrets fields that name endpoints, and the metadata field each fills.
_CLIENT_SECRETS_ENDPOINTS = (
    ("auth_uri", "authorization_endpoint", "authorization"),
    ("token_uri", "token_endpoint", "token"),
)


def _check(url: Any, *, setting: str, what: str) -> None:
    try:
        check_endpoint_url(url, name=what)
    except InsecureTransportError as exc:
        raise InsecureTransportError(f"{setting}: {exc}") from None
    if what == "token" and urlsplit(url).scheme.lower() == "http":
        # requests-oauthlib sends no token request to a plain-http URL (and this
        # package never sets OAUTHLIB_INSECURE_TRANSPORT): refuse now, not at
        # the first sign-in.
        raise InsecureTransportError(
            f"{setting}: the token endpoint must use https, even on a loopback host "
            "(serve a local test server over TLS and set GOOGLE_FLOW_CA_BUNDLE; the "
            "fake Google's server mode does)"
        )


def check_configured_urls(settings: Settings, client: Mapping[str, Any]) -> None:
    """Check every URL the app configures against the URL rule.

    :param settings: the app's resolved options.
    :param client: the inner client configuration (``config["web"]``).
    :raises InsecureTransportError: a URL is plain http on a non-loopback
        host, has another scheme or no host; the message starts with the
        config key (``GOOGLE_FLOW_TOKEN_ENDPOINT: ...``) or the client-secrets
        field (``client secrets 'token_uri': ...``).
    """
    for field, key, what in _ENDPOINT_SETTINGS:
        value = getattr(settings, field)
        if value:
            _check(value, setting=key, what=what)
    for name, _field, what in _CLIENT_SECRETS_ENDPOINTS:
        _check(client.get(name), setting=f"client secrets {name!r}", what=what)
    if settings.redirect_uri:
        _check(settings.redirect_uri, setting="GOOGLE_FLOW_REDIRECT_URI", what="redirect URI")
    for uri in client.get("redirect_uris") or ():
        _check(uri, setting="client secrets 'redirect_uris'", what="redirect URI")


def base_metadata(settings: Settings, client: Mapping[str, Any]) -> ProviderMetadata | None:
    """The metadata the explicit settings are applied on (levels 3 and 4 of the precedence).

    :returns: ``None`` with a discovery URL (the document is the base);
        otherwise Google's endpoints with the client secrets' ``auth_uri`` and
        ``token_uri`` in place of Google's.
    """
    if settings.discovery_url:
        return None
    from_client = {field: client[name] for name, field, _what in _CLIENT_SECRETS_ENDPOINTS}
    _warn_if_issuer_stays_google(settings, from_client.values())
    return GOOGLE.with_overrides(from_client)


def _is_google_host(host: str | None) -> bool:
    host = (host or "").lower()
    return host.endswith((".google.com", ".googleapis.com")) or host in {"google.com"}


def _warn_if_issuer_stays_google(settings: Settings, urls: Iterable[str]) -> None:
    """Log when the client secrets leave Google but ID tokens would be checked as Google's."""
    if settings.issuer or settings.jwks_uri:
        return
    hosts = sorted({urlsplit(url).hostname or "" for url in urls} - {""})
    if all(_is_google_host(host) for host in hosts):
        return
    logger.warning(
        "flask-google-flow: the client secrets' auth_uri/token_uri point at %s, but ID tokens "
        "are still checked against Google's issuer and certs; for another provider set "
        "GOOGLE_FLOW_DISCOVERY_URL, or GOOGLE_FLOW_ISSUER and GOOGLE_FLOW_JWKS_URI",
        ", ".join(hosts),
    )
