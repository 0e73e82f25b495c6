"""Provider metadata (Google's endpoints, or OpenID discovery) and one pooled HTTP client.

:class:`ProviderMetadata` names the endpoints of an OpenID provider;
:data:`GOOGLE` holds Google's. :class:`ProviderClient` is the one object per
Flask app that talks to them: it owns a single :class:`requests.Session` with
a connection pool sized for threaded servers, so a steady stream of sign-ins
opens no new TLS connection per login, and every call has a timeout.

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

``trust_env``: :class:`requests.Session` by default consults proxy
environment variables, ``REQUESTS_CA_BUNDLE`` and ``~/.netrc`` on every
request. The proxy part scans the whole process environment each time:
measured at 0.1 to 0.2 ms of CPU per call, a tenth of a steady-state login
on a loopback provider. :class:`ProviderClient` keeps ``trust_env`` on (what
users behind a proxy expect) but reads the proxy variables once per scheme
and host (:class:`EnvironmentCache`) for its own session and for every
session it mounts (:meth:`~ProviderClient.mount`); the CA-bundle variables are
still read on every call (a dictionary lookup). Proxy variables changed
after the first call to a host are therefore not seen until the process
restarts. Pass ``trust_env=False`` to ignore the environment.
"""

from __future__ import annotations

import base64
import functools
import http.cookiejar
import os
import threading
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.auth import AuthBase
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies
from urllib3.util.retry import Retry

from ..exceptions import (
    InsecureTransportError,
    MalformedResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from .failures import failure_kind
from .hosts import is_loopback_host

if TYPE_CHECKING:
    from .id_token import CertsCache

__all__ = [
    "GOOGLE",
    "ClientSecretBasic",
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


class EnvironmentCache:
    """``requests.Session.merge_environment_settings`` with the proxy lookup cached.

    :func:`requests.utils.get_environ_proxies` scans every environment
    variable on each call; its answer depends only on the URL's scheme and
    host (and ``no_proxy``), so it is computed once per ``(scheme, host,
    no_proxy)``. Everything else is exactly what requests does. Thread-safe
    (a lost race computes the same value twice).
    """

    def __init__(self) -> None:
        self._proxies: dict[tuple[str, str, Any], dict[str, str]] = {}

    def environ_proxies(self, url: str, no_proxy: Any = None) -> dict[str, str]:
        """The proxies the environment sets for ``url`` (a copy)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        proxies = self._proxies.get(key)
        if proxies is None:
            proxies = get_environ_proxies(url, no_proxy=no_proxy)
            if len(self._proxies) < 256:
                self._proxies[key] = proxies
        return dict(proxies)

    def merge_environment_settings(
        self,
        session: requests.Session,
        url: str,
        proxies: Any,
        stream: Any,
        verify: Any,
        cert: Any,
    ) -> dict[str, Any]:
        """What :meth:`requests.Session.merge_environment_settings` returns, faster."""
        if session.trust_env:
            no_proxy = proxies.get("no_proxy") if proxies is not None else None
            for key, value in self.environ_proxies(url, no_proxy).items():
                proxies.setdefault(key, value)
            if verify is True or verify is None:
                verify = (
                    os.environ.get("REQUESTS_CA_BUNDLE")
                    or os.environ.get("CURL_CA_BUNDLE")
                    or verify
                )
        return {
            "proxies": merge_setting(proxies, session.proxies),
            "stream": merge_setting(stream, session.stream),
            "verify": merge_setting(verify, session.verify),
            "cert": merge_setting(cert, session.cert),
        }

    def install(self, session: requests.Session) -> requests.Session:
        """Make ``session`` use this cache (an instance attribute; no global patch)."""
        cache = self

        def merge_environment_settings(
            self: requests.Session, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> dict[str, Any]:
            return cache.merge_environment_settings(self, url, proxies, stream, verify, cert)

        session.merge_environment_settings = types.MethodType(  # type: ignore[method-assign]
            merge_environment_settings, session
        )
        return session


class ClientSecretBasic(AuthBase):
    """HTTP Basic client authentication (RFC 6749 §2.3.1), the header encoded once.

    Sends the ``Authorization`` header :class:`requests.auth.HTTPBasicAuth`
    sends for the same id and secret. An app's client id and secret do not
    change, so one instance per app serves every token request. Passing an
    ``auth`` object also keeps ``requests`` from looking for a ``.netrc``
    file on every request.

    :param client_id: the OAuth client id.
    :param client_secret: the client secret (``None`` is sent as empty).
    """

    def __init__(self, client_id: str, client_secret: str | None) -> None:
        pair = f"{client_id}:{client_secret or ''}"
        try:
            raw = pair.encode("latin-1")  # what requests' HTTPBasicAuth does
        except UnicodeEncodeError:
            raw = pair.encode("utf-8")  # RFC 7617's charset
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the ``Authorization`` header of *request*."""
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(...)"


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
    :param trust_env: :attr:`requests.Session.trust_env` (proxies from the
        environment, ``REQUESTS_CA_BUNDLE``, ``.netrc``).
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
    ) -> None:
        if metadata is not None and discovery_url is not None:
            raise ValueError("pass either metadata or discovery_url, not both")
        self.timeout = timeout
        self.discovery_url = discovery_url
        self._overrides = dict(overrides or {})
        self._clock = clock
        self._lock = threading.Lock()
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
        self._adapter = HTTPAdapter(
            pool_connections=8, pool_maxsize=pool_maxsize, max_retries=retries
        )
        self._borrowed = _BorrowedAdapter(self._adapter)
        self._environment = EnvironmentCache()
        session = self._environment.install(requests.Session())
        session.trust_env = trust_env
        session.mount("https://", self._adapter)
        session.mount("http://", self._adapter)
        session.headers["Accept"] = "application/json"
        # Every user's token request goes through this one session: it keeps
        # no cookies, so nothing a response sets is sent with another request.
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=()))
        self._session = session

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
                self._metadata = discovered.with_overrides(self._overrides).check_urls()
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
        """Route ``session``'s ``http://`` and ``https://`` requests through the shared pool.

        For sessions made per use (the users' authorized sessions), so their
        calls reuse kept-alive connections. Closing ``session`` afterwards
        does not close the shared pool. The session also gets the client's
        cached proxy-environment lookup (see :class:`EnvironmentCache`).

        :returns: ``session``.
        """
        session.mount("https://", self._borrowed)
        session.mount("http://", self._borrowed)
        self._environment.install(session)
        return session

    def close(self) -> None:
        """Close every pooled connection. The client stays usable (it reconnects)."""
        self._session.close()

    # -- calls ----------------------------------------------------------------

    def _send(self, method: str, url: str, *, endpoint: str, **kwargs: Any) -> requests.Response:
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
