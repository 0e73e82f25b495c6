"""Provider metadata (Google's endpoints, or OpenID discovery) and one pooled HTTP client.

:class:`ProviderMetadata` names the endpoints of an OpenID provider;
:data:`GOOGLE` holds Google's. :class:`ProviderClient` is the one object per
Flask app that talks to them: it owns a single :class:`requests.Session` with
a connection pool sized for threaded servers, so a steady stream of sign-ins
opens no new TLS connection per login, and every call has a timeout. Sessions
made per use (the per-sign-in ``Flow``'s ``OAuth2Session``, the users'
authorized sessions) borrow that pool and the client's transport settings
through :meth:`ProviderClient.mount`.

URL rule (:func:`check_endpoint_url`): every endpoint is ``https``, except
loopback hosts (``localhost``, ``127.0.0.0/8``, ``::1``), which may use plain
``http`` for local development and tests (RFC 8252). Other schemes are
refused.

Errors are :mod:`flask_google_flow.exceptions`: a timeout is
:class:`~flask_google_flow.exceptions.ProviderTimeoutError`, an unreachable
host or a 5xx answer is
:class:`~flask_google_flow.exceptions.ProviderUnavailableError`, an answer
that is not a JSON object is
:class:`~flask_google_flow.exceptions.MalformedResponseError`. Messages name
the endpoint and the HTTP status only, never a response body (which may echo
a token).

The environment (``trust_env``). A plain :class:`requests.Session` consults
the proxy variables (``HTTPS_PROXY``, ``NO_PROXY``...), ``REQUESTS_CA_BUNDLE``
/ ``CURL_CA_BUNDLE`` and ``~/.netrc`` on every request; the proxy lookup scans
the whole process environment each time (measured at 75 to 85 µs per call,
about a third of this package's own cost per login). With ``trust_env=True``
(the default) :class:`ProviderClient` asks requests once instead, through
its public :meth:`requests.Session.merge_environment_settings` on a session
that never sends anything: the CA bundle when the client is created, the
proxies of each scheme and host at its first use. The answers are put on the
shared session's public ``verify`` and ``proxies`` (per-host keys,
``"https://host"``), and the session itself runs with ``trust_env = False``.
So proxy variables changed after the first call to a host, or CA-bundle
variables changed after the client was created, are seen only after a
restart, and ``~/.netrc`` is not read (provider calls carry their own client
authentication). Pass ``trust_env=False`` to ignore the environment.
"""

from __future__ import annotations

import functools
import http.cookiejar
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from ..exceptions import (
    InsecureTransportError,
    MalformedResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from .failures import failure_kind
from .hosts import is_loopback_host
from .tls import CABundleAdapter

if TYPE_CHECKING:
    from .id_token import CertsCache

__all__ = [
    "GOOGLE",
    "ProviderClient",
    "ProviderMetadata",
    "check_endpoint_url",
    "is_loopback_host",
]

_DISCOVERY_SUFFIX = "/.well-known/openid-configuration"

#: Override names accepted by :meth:`ProviderMetadata.with_overrides`: the
#: field names (what the configuration passes) and short aliases for callers.
_OVERRIDE_ALIASES = {
    "issuer": "issuer",
    "auth": "authorization_endpoint",
    "authorize": "authorization_endpoint",
    "authorization_endpoint": "authorization_endpoint",
    "token": "token_endpoint",
    "token_endpoint": "token_endpoint",
    "revoke": "revocation_endpoint",
    "revocation_endpoint": "revocation_endpoint",
    "userinfo": "userinfo_endpoint",
    "userinfo_endpoint": "userinfo_endpoint",
    "certs": "jwks_uri",
    "jwks": "jwks_uri",
    "jwks_uri": "jwks_uri",
}


def check_endpoint_url(url: str, *, name: str) -> str:
    """Check ``url`` against the URL rule and return it unchanged.

    :param url: an endpoint URL.
    :param name: what the URL is (``"token"``, ``"jwks_uri"``...), for the message.
    :returns: ``url``.
    :raises InsecureTransportError: the URL is not ``https`` (plain ``http`` is
        allowed for loopback hosts only), has another scheme, or has no host.
        The message names the endpoint and the host, never the whole URL.
    """
    if not isinstance(url, str) or not url:
        raise InsecureTransportError(f"the {name} endpoint URL is missing")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise InsecureTransportError(f"the {name} endpoint URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise InsecureTransportError(
            f"the {name} endpoint must be an https URL, not {scheme or 'a relative'!s} URL"
        )
    if not host:
        raise InsecureTransportError(f"the {name} endpoint URL has no host")
    if scheme == "http" and not is_loopback_host(host):
        raise InsecureTransportError(
            f"the {name} endpoint must use https: plain http is allowed for loopback "
            f"hosts only, not for host {host!r}"
        )
    return url


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints of an OpenID provider.

    :ivar issuer: the issuer identifier, the ``iss`` of its ID tokens.
    :ivar authorization_endpoint: where the browser is sent to sign in.
    :ivar token_endpoint: where codes and refresh tokens are exchanged.
    :ivar revocation_endpoint: RFC 7009 token revocation, if any.
    :ivar userinfo_endpoint: the OpenID UserInfo endpoint, if any.
    :ivar jwks_uri: the signing keys, as a JWKS document or Google's v1
        ``{kid: PEM certificate}`` map.
    :ivar issuer_aliases: other spellings of the issuer accepted in ``iss``
        (Google issues both ``https://accounts.google.com`` and
        ``accounts.google.com``).
    """

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None
    userinfo_endpoint: str | None
    jwks_uri: str
    issuer_aliases: tuple[str, ...] = ()

    @functools.cached_property
    def issuers(self) -> tuple[str, ...]:
        """Every accepted spelling of the issuer: ``issuer`` first, then the aliases.

        Computed once per metadata object (it is immutable), not per sign-in.
        """
        return (self.issuer, *(a for a in self.issuer_aliases if a != self.issuer))

    def check_urls(self) -> ProviderMetadata:
        """Check every endpoint against the URL rule (:func:`check_endpoint_url`).

        :returns: ``self``.
        :raises InsecureTransportError: an endpoint breaks the rule.
        """
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ):
            value = getattr(self, name)
            if value is not None:
                check_endpoint_url(value, name=name)
        return self

    def with_overrides(self, overrides: Mapping[str, str | None] | None) -> ProviderMetadata:
        """A copy with some endpoints replaced.

        :param overrides: endpoint names to URLs. Names are the field names
            (``token_endpoint``, ``jwks_uri``...) or the short names ``auth``,
            ``token``, ``revoke``, ``userinfo``, ``certs`` and ``issuer``.
            Overriding the issuer drops ``issuer_aliases`` unless they are
            overridden too (``issuer_aliases`` takes a sequence).
        :raises ValueError: an unknown endpoint name.
        """
        if not overrides:
            return self
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key == "issuer_aliases":
                changes["issuer_aliases"] = tuple(value or ())
                continue
            field = _OVERRIDE_ALIASES.get(key)
            if field is None:
                known = ", ".join(sorted(_OVERRIDE_ALIASES))
                raise ValueError(f"unknown provider endpoint {key!r}; known names: {known}")
            changes[field] = value
        if "issuer" in changes and "issuer_aliases" not in changes:
            changes["issuer_aliases"] = ()
        return replace(self, **changes)

    @classmethod
    def from_discovery(
        cls, document: Mapping[str, Any], *, expected_issuer: str | None = None
    ) -> ProviderMetadata:
        """Build metadata from an OpenID Provider Configuration document.

        :param document: the parsed ``/.well-known/openid-configuration`` JSON.
        :param expected_issuer: the issuer the document must declare (OpenID
            Connect Discovery §4.3: the discovery URL minus
            ``/.well-known/openid-configuration``); ``None`` skips the check.
        :raises MalformedResponseError: a required field (``issuer``,
            ``authorization_endpoint``, ``token_endpoint``, ``jwks_uri``) is
            missing or not a string, or the issuer is not the expected one.
        :raises InsecureTransportError: an endpoint breaks the URL rule.
        """
        if not isinstance(document, Mapping):
            raise MalformedResponseError(
                "the discovery document is not a JSON object", endpoint="discovery"
            )
        values: dict[str, Any] = {}
        for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedResponseError(
                    f"the discovery document lacks {name!r}", endpoint="discovery"
                )
            values[name] = value
        for name in ("revocation_endpoint", "userinfo_endpoint"):
            value = document.get(name)
            values[name] = value if isinstance(value, str) and value else None
        if expected_issuer is not None and values["issuer"] != expected_issuer:
            raise MalformedResponseError(
                "the discovery document's issuer is not the issuer of the discovery URL",
                endpoint="discovery",
            )
        return cls(**values).check_urls()


#: Google's endpoints (https://accounts.google.com/.well-known/openid-configuration).
GOOGLE = ProviderMetadata(
    issuer="https://accounts.google.com",
    authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
    token_endpoint="https://oauth2.googleapis.com/token",
    revocation_endpoint="https://oauth2.googleapis.com/revoke",
    userinfo_endpoint="https://openidconnect.googleapis.com/v1/userinfo",
    jwks_uri="https://www.googleapis.com/oauth2/v3/certs",
    issuer_aliases=("accounts.google.com",),
)


class _BorrowedAdapter(BaseAdapter):
    """Mounted on other sessions: sends through the shared adapter, never closes it.

    :meth:`requests.Session.close` closes every mounted adapter; a per-request
    session closing the shared pool would throw away every kept-alive
    connection of the app.
    """

    def __init__(self, adapter: HTTPAdapter) -> None:
        super().__init__()
        self._adapter = adapter

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send through the shared adapter."""
        return self._adapter.send(request, **kwargs)

    def close(self) -> None:
        """Do nothing: the pool belongs to the :class:`ProviderClient`."""


class ProviderClient:
    """The provider's endpoints and one pooled, thread-safe HTTP client, shared per app.

    :param metadata: the provider's endpoints; defaults to :data:`GOOGLE`
        unless ``discovery_url`` is given.
    :param discovery_url: an OpenID discovery URL; the document is fetched on
        first use of :attr:`metadata` (once; a failure is retried on the next
        use) and its issuer must match the URL.
    :param timeout: seconds for connecting and for reading, on every call.
    :param overrides: endpoint names to URLs applied on top of the metadata
        (see :meth:`ProviderMetadata.with_overrides`).
    :param clock: the time source, passed on to :attr:`certs`.
    :param pool_maxsize: connections kept alive per host; size it to the
        number of threads of the server.
    :param trust_env: take proxies and the CA bundle from the environment,
        as :attr:`requests.Session.trust_env` does, but asked once (see the
        module's documentation); ``False`` ignores the environment.
    :param verify: path of a PEM CA bundle to verify the provider's TLS
        certificates with (``GOOGLE_FLOW_CA_BUNDLE``), instead of requests'
        default (``REQUESTS_CA_BUNDLE``, else certifi's). It is the pooled
        session's ``verify`` and is applied by the pool's adapter
        (:class:`~flask_google_flow.core.tls.CABundleAdapter`), so it holds for
        every request through the pool (mounted sessions, google-auth
        refreshes) even where ``REQUESTS_CA_BUNDLE`` is set.
    :raises InsecureTransportError: an endpoint or the discovery URL breaks the
        URL rule (checked here for given metadata, at fetch for discovery).
    :raises ValueError: both ``metadata`` and ``discovery_url`` given, or an
        unknown override name.
    """

    def __init__(
        self,
        metadata: ProviderMetadata | None = None,
        *,
        discovery_url: str | None = None,
        timeout: float = 10.0,
        overrides: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        pool_maxsize: int = 32,
        trust_env: bool = True,
        verify: str | None = None,
    ) -> None:
        if metadata is not None and discovery_url is not None:
            raise ValueError("pass either metadata or discovery_url, not both")
        self.timeout = timeout
        self.discovery_url = discovery_url
        self._overrides = dict(overrides or {})
        self._clock = clock
        self._lock = threading.Lock()
        self._lock_env = threading.Lock()
        self._certs: CertsCache | None = None
        self._auth_request: Any = None
        self._metadata: ProviderMetadata | None = None
        if discovery_url is not None:
            check_endpoint_url(discovery_url, name="discovery")
            # Validate the override names now rather than at first use.
            GOOGLE.with_overrides(self._overrides)
        else:
            base = metadata if metadata is not None else GOOGLE
            self._metadata = base.with_overrides(self._overrides).check_urls()
        # One connect retry is safe for every method: nothing was sent yet.
        # Reads are never retried, so a token POST is never sent twice.
        retries = Retry(total=1, connect=1, read=False, redirect=0, status=0, other=0)
        pool = {"pool_connections": 8, "pool_maxsize": pool_maxsize, "max_retries": retries}
        self._adapter = HTTPAdapter(**pool) if verify is None else CABundleAdapter(verify, **pool)
        self._borrowed = _BorrowedAdapter(self._adapter)
        #: Whether proxies and the CA bundle come from the environment.
        self.trust_env = trust_env
        # Asked about the environment, never used to send anything.
        self._environment = requests.Session() if trust_env else None
        self._resolved: set[tuple[str, str]] = set()
        session = requests.Session()
        session.trust_env = False  # the environment is asked once, see use_environment()
        if self._environment is not None:
            settings = self._environment.merge_environment_settings(
                "https://example.invalid/", {}, None, None, None
            )
            session.verify = settings["verify"]
        if verify is not None:
            session.verify = verify  # GOOGLE_FLOW_CA_BUNDLE wins over the environment
        session.mount("https://", self._adapter)
        session.mount("http://", self._adapter)
        session.headers["Accept"] = "application/json"
        # Every user's token request goes through this one session: it keeps
        # no cookies, so nothing a response sets is sent with another request.
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=()))
        self._session = session
        if self._metadata is not None:
            self._use_environment_of(self._metadata)

    # -- metadata -------------------------------------------------------------

    @property
    def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, with the overrides applied and every URL checked.

        :raises ProviderUnavailableError: the discovery document could not be fetched.
        :raises ProviderTimeoutError: fetching it timed out.
        :raises MalformedResponseError: it is not a valid discovery document,
            or names a plain-http endpoint on a non-loopback host.
        :raises InsecureTransportError: an endpoint override of this app is
            plain http on a non-loopback host (a configuration error).
        """
        metadata = self._metadata
        if metadata is not None:
            return metadata
        with self._lock:
            if self._metadata is None:
                assert self.discovery_url is not None
                expected = None
                if self.discovery_url.endswith(_DISCOVERY_SUFFIX):
                    expected = self.discovery_url[: -len(_DISCOVERY_SUFFIX)]
                document, _headers = self.get_json(self.discovery_url, endpoint="discovery")
                try:
                    discovered = ProviderMetadata.from_discovery(document, expected_issuer=expected)
                except InsecureTransportError as exc:
                    # The provider's fault (502), not a setting of this app.
                    raise MalformedResponseError(
                        f"the discovery document is not acceptable: {exc}",
                        endpoint="discovery",
                    ) from None
                # An insecure URL in the app's own overrides stays a configuration error.
                metadata = discovered.with_overrides(self._overrides).check_urls()
                self._use_environment_of(metadata)
                self._metadata = metadata
            return self._metadata

    @property
    def certs(self) -> CertsCache:
        """The signing-key cache for ``jwks_uri`` (created once)."""
        certs = self._certs
        if certs is not None:
            return certs
        from .id_token import CertsCache

        jwks_uri = self.metadata.jwks_uri
        with self._lock:
            if self._certs is None:
                self._certs = CertsCache(
                    partial(self.get_json, endpoint="certs"), jwks_uri, clock=self._clock
                )
            return self._certs

    # -- the pool -------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The shared :class:`requests.Session` (do not close it; use :meth:`close`)."""
        return self._session

    @property
    def auth_request(self) -> Any:
        """A google-auth transport (``google.auth.transport.requests.Request``) on the shared pool.

        Created once; google-auth refreshes use it instead of a new session each.
        """
        request = self._auth_request
        if request is None:
            from google.auth.transport.requests import Request

            request = self._auth_request = Request(self._session)
        return request

    @property
    def adapter(self) -> HTTPAdapter:
        """The shared :class:`~requests.adapters.HTTPAdapter` and its connection pool."""
        return self._adapter

    def mount(self, session: requests.Session) -> requests.Session:
        """Lend the shared pool and this client's transport settings to ``session``.

        For sessions made per use — the per-sign-in ``Flow``'s
        ``OAuth2Session``, the users' authorized sessions — so their calls
        reuse the kept-alive connections (no new TLS handshake) with the same
        ``verify`` (CA bundle), client ``cert`` and ``proxies`` as the shared
        session, whatever set them. Only public APIs are used:
        :meth:`requests.Session.mount` with an adapter that sends through the
        shared one and whose ``close`` does nothing (closing ``session``
        leaves the pool open), and the session's public attributes. The
        environment is not read again per request (``trust_env`` is off; the
        client resolved it, see :meth:`use_environment`).

        :returns: ``session``.
        """
        session.mount("https://", self._borrowed)
        session.mount("http://", self._borrowed)
        shared = self._session
        session.trust_env = False
        session.verify = shared.verify
        session.cert = shared.cert
        session.proxies = shared.proxies
        return session

    def use_environment(self, url: str) -> None:
        """Put the environment's proxy for ``url``'s scheme and host on the shared session.

        Asked once per scheme and host, through requests' public
        :meth:`~requests.Session.merge_environment_settings` (which applies
        ``NO_PROXY``); the answer becomes a per-host entry of the shared
        session's ``proxies`` (``"https://host": proxy``). Nothing happens
        with ``trust_env=False``. Sessions that :meth:`mount` the pool get
        the entries known when they are mounted.
        """
        environment = self._environment
        if environment is None:
            return
        parts = urlsplit(url)
        key = (parts.scheme.lower(), (parts.hostname or "").lower())
        if key in self._resolved:
            return
        settings = environment.merge_environment_settings(url, {}, None, None, None)
        proxy = settings["proxies"].get(key[0]) or settings["proxies"].get("all")
        with self._lock_env:
            if proxy and f"{key[0]}://{key[1]}" not in self._session.proxies:
                # A new dict, not an update: sessions holding the old one keep a consistent view.
                self._session.proxies = {**self._session.proxies, f"{key[0]}://{key[1]}": proxy}
            self._resolved.add(key)

    def _use_environment_of(self, metadata: ProviderMetadata) -> None:
        for url in (
            metadata.authorization_endpoint,
            metadata.token_endpoint,
            metadata.revocation_endpoint,
            metadata.userinfo_endpoint,
            metadata.jwks_uri,
        ):
            if url:
                self.use_environment(url)

    def close(self) -> None:
        """Close every pooled connection. The client stays usable (it reconnects)."""
        self._session.close()

    # -- calls ----------------------------------------------------------------

    def _send(self, method: str, url: str, *, endpoint: str, **kwargs: Any) -> requests.Response:
        self.use_environment(url)
        try:
            response = self._session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout:
            raise ProviderTimeoutError(
                f"the {endpoint} endpoint did not answer within {self.timeout:g} seconds",
                endpoint=endpoint,
            ) from None
        except requests.RequestException as exc:
            raise ProviderUnavailableError(
                f"the {endpoint} endpoint could not be reached ({failure_kind(exc)})",
                endpoint=endpoint,
            ) from None
        if response.status_code >= 500:
            status = response.status_code
            raise ProviderUnavailableError(
                f"the {endpoint} endpoint failed with HTTP {status}",
                endpoint=endpoint,
                status=status,
            )
        return response

    def get_json(self, url: str, *, endpoint: str) -> tuple[dict[str, Any], Mapping[str, str]]:
        """GET a JSON object.

        :param url: the URL (already checked against the URL rule by the caller
            or by :attr:`metadata`).
        :param endpoint: the endpoint's name for error messages (``"certs"``...).
        :returns: the parsed JSON object and the response headers
            (case-insensitive).
        :raises ProviderTimeoutError: no answer within the timeout.
        :raises ProviderUnavailableError: unreachable, or a status other than 2xx.
        :raises MalformedResponseError: the body is not a JSON object.
        """
        response = self._send("GET", url, endpoint=endpoint)
        status = response.status_code
        if not 200 <= status < 300:
            raise ProviderUnavailableError(
                f"the {endpoint} endpoint answered HTTP {status}",
                endpoint=endpoint,
                status=status,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise MalformedResponseError(
                f"the {endpoint} endpoint did not answer with a JSON object (HTTP {status})",
                endpoint=endpoint,
                status=status,
            )
        return body, response.headers

    def post_form(
        self,
        url: str,
        data: Mapping[str, str],
        *,
        endpoint: str,
        auth: Any = None,
    ) -> requests.Response:
        """POST an ``application/x-www-form-urlencoded`` body.

        :param url: the URL.
        :param data: the form fields (sent in the body, never in the URL).
        :param endpoint: the endpoint's name for error messages.
        :param auth: passed to :mod:`requests` (e.g. HTTP Basic client auth).
        :returns: the response, whatever its status below 500 (the caller
            interprets OAuth error objects).
        :raises ProviderTimeoutError: no answer within the timeout.
        :raises ProviderUnavailableError: unreachable, or a 5xx status.
        """
        return self._send("POST", url, endpoint=endpoint, data=data, auth=auth)

    def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (RFC 7009) at the revocation endpoint.

        :param token: the token, sent as the form field ``token`` in the body.
        :returns: ``True`` when revoked (HTTP 200), ``False`` when the provider
            answered 400 (Google: the token is already invalid or unknown).
        :raises ProviderTimeoutError: no answer within the timeout.
        :raises ProviderUnavailableError: unreachable, no revocation endpoint, or
            any other status.
        """
        url = self.metadata.revocation_endpoint
        if not url:
            raise ProviderUnavailableError(
                "the provider has no revocation endpoint", endpoint="revoke"
            )
        response = self.post_form(url, {"token": token}, endpoint="revoke")
        status = response.status_code
        if status == 200:
            return True
        if status == 400:
            return False
        raise ProviderUnavailableError(
            f"the revoke endpoint answered HTTP {status}", endpoint="revoke", status=status
        )
