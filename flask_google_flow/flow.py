"""Google's OAuth 2.0 authorization code flow, compatible with ``google_auth_oauthlib.flow``.

:class:`Flow` and :class:`InstalledAppFlow` have the public API of
``google_auth_oauthlib.flow`` 1.5.0 — the same names, constructor and
classmethod signatures, properties, defaults and return types — so code
written for that module runs after changing the import::

    from flask_google_flow.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_secrets_file(
        "client_secret.json", scopes=["openid", "email"]
    )
    credentials = flow.run_local_server(port=0)

Differences, all deliberate:

* **Partial consent works.** When Google grants fewer (or differently
  spelled) scopes than requested, :meth:`Flow.fetch_token` succeeds without
  ``OAUTHLIB_RELAX_TOKEN_SCOPE``; the granted scopes are in
  ``credentials.granted_scopes``.
* **No process-wide switches.** Nothing sets ``OAUTHLIB_*`` environment
  variables and no URL is rewritten. Plain ``http`` is accepted for loopback
  hosts (``localhost``, ``127.0.0.0/8``, ``::1``) only, as RFC 8252 allows;
  any other ``http`` URL raises
  :class:`~flask_google_flow.exceptions.InsecureTransportError` unless the flow
  was created with ``allow_insecure_http=True``.
* **Timeouts everywhere.** The token request uses :attr:`Flow.timeout`
  (default :data:`DEFAULT_TIMEOUT` seconds) unless ``fetch_token(timeout=...)``
  says otherwise; redirects from the token endpoint are not followed.
* **Clear errors.** Token-endpoint failures raise the
  :class:`~flask_google_flow.exceptions.ProviderError` family, whose messages
  never contain a secret. The concrete classes also inherit the oauthlib or
  ``requests`` exception the reference would have let through (see
  :mod:`flask_google_flow.exceptions`).
* **A robust loopback server** for :meth:`InstalledAppFlow.run_local_server`
  and a headless mode, :meth:`InstalledAppFlow.run_headless`, for SSH
  sessions and containers.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import socket
import string
import sys  # noqa: F401  (module attribute patched by tests written for the reference)
import time
import webbrowser  # tests patch ``flask_google_flow.flow.webbrowser``, as with the reference
import wsgiref.simple_server
import wsgiref.util  # noqa: F401
from base64 import urlsafe_b64encode
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import google.auth.transport.requests
import google.oauth2.credentials
import requests
import requests_oauthlib
from oauthlib.oauth2.rfc6749.tokens import OAuth2Token

from . import helpers
from .core import loopback
from .core.client_secrets import load_client_secrets_file, validate_client_config
from .core.hosts import is_loopback_host
from .exceptions import (
    AccessDeniedError,
    AuthorizationError,
    LocalServerTimeoutError,
    MalformedResponseError,
    OAuthErrorResponse,
    OAuthlibInsecureTransportError,
    OAuthlibInvalidGrantError,
    OAuthlibStateMismatchError,
    ProviderConnectionError,
    ProviderRequestTimeoutError,
    ProviderUnavailableError,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Flow",
    "InstalledAppFlow",
    "WSGITimeoutError",
    "authorization_request_url",
    "code_challenge_s256",
    "is_loopback_host",
    "parse_token_response",
]

_LOGGER = logging.getLogger(__name__)

#: Default timeout, in seconds, of every HTTP request a flow makes.
DEFAULT_TIMEOUT: float = 10.0

#: Alias of :class:`~flask_google_flow.exceptions.LocalServerTimeoutError`
#: under the reference's name (an :class:`AttributeError`).
WSGITimeoutError = LocalServerTimeoutError

_VERIFIER_CHARS = frozenset(string.ascii_letters + string.digits + "-._~")
_TOKEN_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
}
_FlowT = TypeVar("_FlowT", bound="Flow")


def _short(text: object, limit: int = 200) -> str:
    """A printable, bounded excerpt of a provider-supplied string for messages."""
    value = str(text)
    value = "".join(ch if ch.isprintable() else "?" for ch in value[:limit])
    return value + ("…" if len(str(text)) > limit else "")


def code_challenge_s256(verifier: str) -> str:
    """The PKCE ``S256`` code challenge of *verifier* (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorization_request_url(
    auth_uri: str,
    client_id: str,
    *,
    redirect_uri: str | None,
    scope: str | Sequence[str] | None,
    state: str,
    **params: Any,
) -> str:
    """The authorization request URL of the code flow (RFC 6749 §4.1.1).

    ``response_type=code``, ``client_id``, ``redirect_uri``, ``scope`` and
    ``state`` first, then *params* in order; parameters whose value is
    ``None`` or empty are left out. Used by :meth:`Flow.authorization_url` and
    by the Flask extension's ``/authorize``, which has no use for a session
    object there.

    :param auth_uri: the authorization endpoint (it may carry a query already).
    :param client_id: the OAuth client id.
    :param redirect_uri: the redirect URI, if any.
    :param scope: the scopes, space-separated or a sequence.
    :param state: the ``state`` value.
    :param params: further parameters (``code_challenge``, ``nonce``, ``prompt``...).
    """
    if scope is not None and not isinstance(scope, str):
        scope = " ".join(scope)
    query: list[tuple[str, str]] = [("state", state)]
    for key, value in params.items():
        if value is None or value == "":
            continue
        query.append((key, value if isinstance(value, str) else str(value)))
    prefix = _authorization_url_prefix(auth_uri, client_id, redirect_uri or None, scope or None)
    return f"{prefix}&{urlencode(query, quote_via=quote)}"


@functools.lru_cache(maxsize=128)
def _authorization_url_prefix(
    auth_uri: str, client_id: str, redirect_uri: str | None, scope: str | None
) -> str:
    """The authorization URL up to ``state``: the same for every sign-in of a client.

    Encoded once per (endpoint, client, redirect URI, scopes) instead of on
    every call of :func:`authorization_request_url`.
    """
    query: list[tuple[str, str]] = [("response_type", "code"), ("client_id", client_id)]
    if redirect_uri:
        query.append(("redirect_uri", redirect_uri))
    if scope:
        query.append(("scope", scope))
    separator = "&" if urlsplit(auth_uri).query else "?"
    return f"{auth_uri}{separator}{urlencode(query, quote_via=quote)}"


def parse_token_response(response: requests.Response) -> dict[str, Any]:
    """Check a token endpoint's answer (RFC 6749 §5.1, §5.2) and return the token.

    Used by :meth:`Flow.fetch_token` and by the Flask extension's callback,
    which posts the code exchange on the app's pooled session.

    :param response: the token endpoint's response (redirects not followed).
    :returns: the parsed JSON object, with ``scope`` as a list and, when the
        provider gave ``expires_in``, ``expires_at`` (unix seconds).
    :raises ProviderUnavailableError: HTTP 5xx or 429.
    :raises OAuthErrorResponse: an OAuth error object
        (:class:`~flask_google_flow.exceptions.InvalidGrantError` for ``invalid_grant``).
    :raises MalformedResponseError: a redirect, or not a valid Bearer token response.
    """
    status = response.status_code
    if 300 <= status < 400:
        raise MalformedResponseError(
            f"the token endpoint answered with a redirect (HTTP {status}); "
            "redirects are not followed",
            status=status,
        )
    if status >= 500 or status == 429:
        raise ProviderUnavailableError(
            f"the token endpoint is unavailable (HTTP {status})", status=status
        )
    try:
        payload = response.json()
    except ValueError:
        payload = None
        is_json = False
    else:
        is_json = True
    if isinstance(payload, dict) and "error" in payload:
        error = payload.get("error")
        error = _short(error, 100) if isinstance(error, str) and error else "unknown_error"
        description = payload.get("error_description")
        description = _short(description, 300) if isinstance(description, str) else None
        cls = OAuthlibInvalidGrantError if error == "invalid_grant" else OAuthErrorResponse
        raise cls(error, description, status=status)
    if status >= 400 or status < 200:
        raise MalformedResponseError(
            f"the token endpoint answered HTTP {status} without an OAuth error object",
            status=status,
        )
    if not is_json:
        raise MalformedResponseError("the token endpoint's answer is not JSON", status=status)
    if not isinstance(payload, dict):
        raise MalformedResponseError(
            f"the token endpoint's answer is JSON but not an object ({type(payload).__name__})",
            status=status,
        )
    access_token = payload.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise MalformedResponseError("the token response lacks an access_token", status=status)
    token_type = payload.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = repr(_short(token_type, 20)) if isinstance(token_type, str) else "missing"
        raise MalformedResponseError(
            f"the token response's token_type is {shown}, expected Bearer", status=status
        )
    if "scope" in payload:
        scope = payload["scope"]
        if isinstance(scope, str):
            payload["scope"] = scope.split()
        elif not (isinstance(scope, list) and all(isinstance(s, str) for s in scope)):
            raise MalformedResponseError(
                "the token response's scope is not a string", status=status
            )
    expires_in = payload.get("expires_in")
    if expires_in is not None:
        try:
            expires_in = int(expires_in)
        except (TypeError, ValueError):
            raise MalformedResponseError(
                "the token response's expires_in is not a number", status=status
            ) from None
        payload["expires_in"] = expires_in
        payload["expires_at"] = time.time() + expires_in
    return payload


class Flow:
    """OAuth 2.0 authorization code flow with Google (or any compliant provider).

    Build one with :meth:`from_client_secrets_file` or :meth:`from_client_config`;
    send the user to :meth:`authorization_url`; exchange the code with
    :meth:`fetch_token`; read :attr:`credentials`.

    The underlying :class:`requests_oauthlib.OAuth2Session` is
    :attr:`oauth2session`; the token request goes through it (so adapters
    mounted on it, e.g. a shared connection pool or a test double, are used),
    but the code exchange and the token response are handled here.

    :param oauth2session: the OAuth 2.0 session (holds client id, scopes,
        redirect URI and, afterwards, the token).
    :param client_type: ``"web"`` or ``"installed"``.
    :param client_config: the whole client configuration in Google's
        client-secrets format; ``client_config[client_type]`` is kept.
    :param redirect_uri: the redirect URI, if known now; it can be set later
        through :attr:`redirect_uri`.
    :param code_verifier: a PKCE code verifier (43-128 characters from
        ``A-Z a-z 0-9 - . _ ~``), e.g. one restored from a session.
    :param autogenerate_code_verifier: create a random 128-character verifier
        in :meth:`authorization_url` when none is set.
    :param allow_insecure_http: accept plain-``http`` URLs for non-loopback
        hosts (redirect URI, authorization and token endpoints). Off by
        default; meant for test setups only.
    :param timeout: timeout in seconds (or a ``(connect, read)`` tuple) of the
        token request; default :data:`DEFAULT_TIMEOUT`.
    """

    def __init__(
        self,
        oauth2session: requests_oauthlib.OAuth2Session,
        client_type: str,
        client_config: Mapping[str, Any],
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        autogenerate_code_verifier: bool = True,
        *,
        allow_insecure_http: bool = False,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        #: The client type, ``"web"`` or ``"installed"``.
        self.client_type: str = client_type
        #: The client configuration for :attr:`client_type` (``auth_uri``,
        #: ``token_uri``, ``client_id``, ``client_secret``, ...).
        self.client_config: Mapping[str, Any] = client_config[client_type]
        #: The :class:`requests_oauthlib.OAuth2Session` of this flow.
        self.oauth2session: requests_oauthlib.OAuth2Session = oauth2session
        #: Whether plain ``http`` is accepted for non-loopback hosts.
        self.allow_insecure_http: bool = allow_insecure_http
        #: Timeout (seconds, or ``(connect, read)``) of the token request.
        self.timeout: float | tuple[float, float] = timeout
        self.redirect_uri = redirect_uri
        #: The PKCE code verifier (``None`` until generated or given).
        self.code_verifier: str | None = code_verifier
        #: Whether :meth:`authorization_url` generates a verifier when none is set.
        self.autogenerate_code_verifier: bool = autogenerate_code_verifier

    # -- construction -------------------------------------------------------

    @classmethod
    def from_client_config(
        cls: type[_FlowT],
        client_config: Mapping[str, Any] | str,
        scopes: Sequence[str] | None,
        **kwargs: Any,
    ) -> _FlowT:
        """Create a flow from a client configuration in Google's client-secrets format.

        :param client_config: the configuration (``{"web": {...}}`` or
            ``{"installed": {...}}``), or the same document as JSON text.
        :param scopes: the scopes to request.
        :param kwargs: ``code_verifier``, ``autogenerate_code_verifier``,
            ``allow_insecure_http`` and ``timeout`` go to the constructor;
            everything else (``redirect_uri``, ``state``, ...) to
            :class:`requests_oauthlib.OAuth2Session`.
        :returns: the new flow.
        :raises ValueError: (:class:`~flask_google_flow.exceptions.ClientSecretsError`)
            if the configuration is not in the expected format.
        """
        client_type, config = validate_client_config(client_config)
        options = {
            "code_verifier": kwargs.pop("code_verifier", None),
            "autogenerate_code_verifier": kwargs.pop("autogenerate_code_verifier", True),
        }
        extra = {
            "allow_insecure_http": kwargs.pop("allow_insecure_http", False),
            "timeout": kwargs.pop("timeout", DEFAULT_TIMEOUT),
        }
        # Validated once above; build the session directly (no second validation).
        session = requests_oauthlib.OAuth2Session(
            client_id=config[client_type]["client_id"], scope=scopes, **kwargs
        )
        return cls(
            session,
            client_type,
            config,
            kwargs.get("redirect_uri"),
            options["code_verifier"],
            options["autogenerate_code_verifier"],
            **extra,
        )

    @classmethod
    def from_client_secrets_file(
        cls: type[_FlowT], client_secrets_file: str, scopes: Sequence[str] | None, **kwargs: Any
    ) -> _FlowT:
        """Create a flow from a client-secrets JSON file.

        :param client_secrets_file: path of the file from the Google API console.
        :param scopes: the scopes to request.
        :param kwargs: as for :meth:`from_client_config`.
        :returns: the new flow.
        :raises ValueError: (:class:`~flask_google_flow.exceptions.ClientSecretsError`)
            naming the file, if it is missing, unreadable, not JSON or malformed.
        """
        _client_type, config = load_client_secrets_file(client_secrets_file)
        return cls.from_client_config(config, scopes=scopes, **kwargs)

    # -- redirect URI -------------------------------------------------------

    @property
    def redirect_uri(self) -> str | None:
        """The OAuth 2.0 redirect URI; reads and writes ``oauth2session.redirect_uri``.

        Setting a plain-``http`` URI for a non-loopback host raises
        :class:`~flask_google_flow.exceptions.InsecureTransportError` unless the
        flow allows insecure http.
        """
        return self.oauth2session.redirect_uri

    @redirect_uri.setter
    def redirect_uri(self, value: str | None) -> None:
        if value:
            self._check_transport(value, "redirect URI")
        self.oauth2session.redirect_uri = value

    def _check_transport(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "http":
            return  # https, or a custom scheme (private-use redirect URI)
        if self.allow_insecure_http or is_loopback_host(parts.hostname):
            return
        raise OAuthlibInsecureTransportError(
            f"the {what} uses plain http on a non-loopback host ({parts.hostname}); "
            "use https, a loopback host (localhost, 127.0.0.1, ::1), or create the "
            "flow with allow_insecure_http=True"
        )

    # -- step 1: authorization URL -----------------------------------------

    def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
        """Build the URL to send the user to, and the ``state`` it carries.

        Adds ``access_type=offline`` (so a refresh token is issued) and a PKCE
        S256 challenge for :attr:`code_verifier` (generated first, 128
        characters, if none is set and :attr:`autogenerate_code_verifier` is
        true), unless the caller gives those parameters. Nothing else is added.

        :param kwargs: extra query parameters (``state``, ``prompt``,
            ``login_hint``, ``hd``, ``nonce``, ``include_granted_scopes``, ...).
            Parameters whose value is ``None`` or empty are left out. A given
            ``state`` becomes the state this flow expects back.
        :returns: ``(url, state)``.
        :raises InsecureTransportError: if the authorization endpoint or the
            redirect URI is plain http on a non-loopback host.
        :raises ValueError: if the code verifier is not a valid RFC 7636 verifier.
        """
        auth_uri = self.client_config["auth_uri"]
        self._check_transport(auth_uri, "authorization endpoint")
        redirect_uri = self.redirect_uri
        if redirect_uri:
            self._check_transport(redirect_uri, "redirect URI")
        kwargs.setdefault("access_type", "offline")
        if self.code_verifier is None and self.autogenerate_code_verifier:
            # 96 random bytes -> exactly 128 base64url characters, all unreserved.
            self.code_verifier = secrets.token_urlsafe(96)
        if self.code_verifier:
            verifier = self.code_verifier
            if not 43 <= len(verifier) <= 128 or not _VERIFIER_CHARS.issuperset(verifier):
                raise ValueError(
                    "code_verifier must be 43-128 characters from A-Z a-z 0-9 - . _ ~ (RFC 7636)"
                )
            kwargs.setdefault("code_challenge", code_challenge_s256(verifier))
            kwargs.setdefault("code_challenge_method", "S256")

        session = self.oauth2session
        state = kwargs.pop("state", None)
        if state:
            session._state = state
        else:
            state = session.new_state()
        scope = kwargs.pop("scope", session.scope)
        url = authorization_request_url(
            auth_uri,
            self.client_config["client_id"],
            redirect_uri=redirect_uri,
            scope=scope,
            state=state,
            **kwargs,
        )
        return url, state

    # -- step 2: code exchange ---------------------------------------------

    def _code_from_params(self, params: Mapping[str, str]) -> str:
        """Check an authorization response's parameters and return its code."""
        expected = getattr(self.oauth2session, "_state", None)
        if isinstance(expected, str) and expected:
            received = params.get("state") or ""
            if not hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8")):
                raise OAuthlibStateMismatchError(
                    "the state of the authorization response does not match the state "
                    "this flow sent (possible CSRF, or a response meant for another sign-in)"
                )
        if "error" in params:
            error = _short(params["error"] or "unknown_error", 100)
            description = params.get("error_description")
            description = _short(description, 300) if description else None
            cls = AccessDeniedError if error == "access_denied" else AuthorizationError
            raise cls(error, description)
        code = params.get("code")
        if not code:
            raise AuthorizationError(
                "invalid_response", "the authorization response carries no code"
            )
        return code

    def _code_from_authorization_response(self, authorization_response: str) -> str:
        parts = urlsplit(authorization_response)
        self._check_transport(authorization_response, "authorization response URL")
        return self._code_from_params(dict(parse_qsl(parts.query, keep_blank_values=True)))

    def fetch_token(self, **kwargs: Any) -> dict[str, Any]:
        """Exchange the authorization code for tokens.

        Pass either ``code=`` or ``authorization_response=`` (the full URL the
        provider redirected to; its ``state`` must match this flow's, and an
        ``error=`` in it raises
        :class:`~flask_google_flow.exceptions.AuthorizationError`). The request
        carries ``client_secret`` (HTTP Basic authentication by default, in the
        body with ``include_client_id=True``) and the PKCE ``code_verifier``.

        The token response is parsed here: a granted scope set different from
        the requested one is accepted (and reported by
        ``credentials.granted_scopes``), never a ``Warning``.

        :param kwargs: ``code``, ``authorization_response``, ``timeout`` (default
            :attr:`timeout`), ``client_secret``, ``code_verifier``, ``headers``,
            ``auth``, ``include_client_id``, ``verify``, ``proxies``, ``cert``,
            ``method``, ``force_querystring``, ``body`` as in
            :meth:`requests_oauthlib.OAuth2Session.fetch_token`; any other
            non-empty keyword (e.g. ``audience``) is sent as a form field.
        :returns: the token (an oauthlib ``OAuth2Token``, a :class:`dict`),
            also stored in ``oauth2session.token``.
        :raises ValueError: if neither ``code`` nor ``authorization_response`` is given.
        :raises StateMismatchError: if the authorization response's state is wrong.
        :raises AuthorizationError: if the authorization response carries ``error=``.
        :raises InsecureTransportError: for a plain-http non-loopback token endpoint.
        :raises ProviderTimeoutError: if the token endpoint does not answer in time.
        :raises ProviderUnavailableError: if it cannot be reached or answers 5xx/429.
        :raises OAuthErrorResponse: if it answers with an OAuth error
            (:class:`~flask_google_flow.exceptions.InvalidGrantError` for
            ``invalid_grant``).
        :raises MalformedResponseError: if the answer is not a valid Bearer token response.
        """
        code = kwargs.pop("code", None)
        authorization_response = kwargs.pop("authorization_response", None)
        if not code:
            if not authorization_response:
                raise ValueError("Please supply either code or authorization_response parameters.")
            code = self._code_from_authorization_response(authorization_response)

        config = self.client_config
        token_uri = config["token_uri"]
        self._check_transport(token_uri, "token endpoint")
        client_secret = kwargs.pop("client_secret", config.get("client_secret"))
        code_verifier = kwargs.pop("code_verifier", self.code_verifier)
        timeout = kwargs.pop("timeout", None) or self.timeout
        # A copy: compliance hooks may change it in place.
        headers = dict(kwargs.pop("headers", None) or _TOKEN_HEADERS)
        auth = kwargs.pop("auth", None)
        include_client_id = kwargs.pop("include_client_id", None)
        method = str(kwargs.pop("method", "POST")).upper()
        force_querystring = kwargs.pop("force_querystring", False)
        body = kwargs.pop("body", "")
        transport = {
            "verify": kwargs.pop("verify", None),
            "proxies": kwargs.pop("proxies", None),
            "cert": kwargs.pop("cert", None),
        }

        data: dict[str, str] = {"grant_type": "authorization_code", "code": code}
        redirect_uri = self.redirect_uri
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        if code_verifier:
            data["code_verifier"] = code_verifier
        if body:
            data.update(parse_qsl(body, keep_blank_values=True))
        for key, value in kwargs.items():
            if value:
                data[key] = value
        client_id = config.get("client_id")
        if auth is not None:
            if include_client_id is None:
                include_client_id = False
        elif include_client_id is not True and client_id:
            auth = requests.auth.HTTPBasicAuth(client_id, client_secret or "")
        if include_client_id:
            data["client_id"] = client_id
            if client_secret is not None:
                data["client_secret"] = client_secret

        if method not in ("POST", "GET"):
            raise ValueError("The method kwarg must be POST or GET.")
        request_kwargs: dict[str, Any] = {
            ("data" if method == "POST" and not force_querystring else "params"): data
        }
        session = self.oauth2session
        for hook in session.compliance_hook["access_token_request"]:
            token_uri, headers, request_kwargs = hook(token_uri, headers, request_kwargs)

        host = urlsplit(token_uri).hostname or "?"
        try:
            # requests.Session.request, not OAuth2Session.request: the latter
            # rejects loopback http without a process-wide switch and logs the
            # request body (client secret, code, verifier) at debug level.
            response = requests.Session.request(
                session,
                method,
                token_uri,
                headers=headers,
                auth=auth,
                timeout=timeout,
                allow_redirects=False,
                **transport,
                **request_kwargs,
            )
        except requests.Timeout:
            raise ProviderRequestTimeoutError(
                f"the token endpoint ({host}) did not answer within {timeout} seconds"
            ) from None
        except requests.ConnectionError:
            raise ProviderConnectionError(
                f"cannot connect to the token endpoint ({host})"
            ) from None
        except requests.RequestException as exc:
            raise ProviderUnavailableError(
                f"the request to the token endpoint ({host}) failed: {type(exc).__name__}"
            ) from None
        for hook in session.compliance_hook["access_token_response"]:
            response = hook(response)

        token = self._parse_token_response(response)
        session.token = token
        return token

    def _parse_token_response(self, response: requests.Response) -> OAuth2Token:
        return OAuth2Token(parse_token_response(response), old_scope=self.oauth2session.scope)

    # -- results ------------------------------------------------------------

    @property
    def credentials(self) -> google.oauth2.credentials.Credentials:
        """New :class:`google.oauth2.credentials.Credentials` from the fetched token.

        Carries the access, refresh and ID tokens, ``token_uri``, ``client_id``
        and ``client_secret`` (so it can refresh itself), the requested
        ``scopes``, the ``granted_scopes`` the provider reported, and the
        ``expiry``.

        :raises ValueError: if :meth:`fetch_token` has not succeeded yet.
        """
        return helpers.credentials_from_session(self.oauth2session, self.client_config)

    def authorized_session(self) -> google.auth.transport.requests.AuthorizedSession:
        """A :class:`requests.Session` that sends :attr:`credentials` (and refreshes them).

        :raises ValueError: if :meth:`fetch_token` has not succeeded yet.
        """
        return google.auth.transport.requests.AuthorizedSession(self.credentials)


class InstalledAppFlow(Flow):
    """Authorization flow for desktop, CLI and notebook applications.

    :meth:`run_local_server` opens the browser and catches the redirect on a
    loopback port; :meth:`run_headless` works where no browser can reach this
    machine (SSH sessions, containers): the user opens the URL anywhere and
    pastes back the address the browser ends up on.
    """

    _DEFAULT_AUTH_PROMPT_MESSAGE = "Please visit this URL to authorize this application: {url}"
    _DEFAULT_AUTH_CODE_MESSAGE = "Enter the authorization code: "
    _DEFAULT_WEB_SUCCESS_MESSAGE = (
        "The authentication flow has completed. You may close this window."
    )
    _DEFAULT_HEADLESS_PROMPT_MESSAGE = (
        "Open this URL in a browser on any device and authorize access:\n\n    {url}\n\n"
        "Your browser will then be sent to {redirect_uri}... which will fail to load "
        "(that is expected). Copy the full address from the browser's address bar."
    )
    _DEFAULT_HEADLESS_INPUT_MESSAGE = "Paste the full address here: "

    def _redirect_uri_for(self, host: str, port: int, trailing_slash: bool) -> str:
        return f"http://{loopback.format_host(host)}:{port}{'/' if trailing_slash else ''}"

    def run_local_server(
        self,
        host: str = "localhost",
        bind_addr: str | None = None,
        port: int = 8080,
        authorization_prompt_message: str | None = _DEFAULT_AUTH_PROMPT_MESSAGE,
        success_message: str = _DEFAULT_WEB_SUCCESS_MESSAGE,
        open_browser: bool = True,
        redirect_uri_trailing_slash: bool = True,
        timeout_seconds: float | None = None,
        token_audience: str | None = None,
        browser: str | None = None,
        **kwargs: Any,
    ) -> google.oauth2.credentials.Credentials:
        """Run the flow with a loopback redirect server and return the credentials.

        Starts a small HTTP server, sets :attr:`~Flow.redirect_uri` to
        ``http://{host}:{port}/``, opens the authorization URL in a browser and
        waits for the redirect. Only the real callback (path ``/`` with this
        flow's ``state``) ends the wait: other paths get 404, a wrong or missing
        state gets an error page, and the server keeps waiting. The browser's
        page reports success only after the code has been exchanged.

        :param host: host name of the redirect URI (``http://{host}:{port}/``).
            Plain http, so it must be a loopback host unless the flow allows
            insecure http.
        :param bind_addr: address to listen on when it differs from ``host``
            (e.g. ``0.0.0.0`` in a container); by default ``host`` (for
            ``localhost``: ``127.0.0.1``, with ``[::1]`` reserved as well).
        :param port: port to listen on; ``0`` picks a free port, which then
            appears in the redirect URI.
        :param authorization_prompt_message: printed with ``{url}`` replaced by
            the authorization URL; ``None`` or empty prints nothing.
        :param success_message: text of the page the browser shows on success.
        :param open_browser: open the authorization URL in a browser.
        :param redirect_uri_trailing_slash: end the redirect URI with ``/``.
        :param timeout_seconds: overall deadline, in seconds, for the callback to
            arrive (``None`` waits forever); stray requests do not extend it.
        :param token_audience: sent to the token endpoint as ``audience``.
        :param browser: name of the :mod:`webbrowser` controller to use
            (``webbrowser.get(browser)``); ``None`` is the default browser.
        :param kwargs: passed to :meth:`~Flow.authorization_url`.
        :returns: the user's credentials.
        :raises LocalServerError: (an :class:`OSError`) if the port cannot be bound.
        :raises LocalServerTimeoutError: (``WSGITimeoutError``, an
            :class:`AttributeError`) if no valid callback arrives in time.
        :raises AccessDeniedError: if the user declined; other ``error=``
            answers raise :class:`~flask_google_flow.exceptions.AuthorizationError`.
        :raises ProviderError: if the code exchange fails (see :meth:`~Flow.fetch_token`).

        The port is released in every case.
        """
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        listen = bind_addr or host
        server = loopback.LoopbackServer.start(
            listen,
            port,
            success_message,
            reserve_ipv6=listen.lower() == "localhost",
        )
        with server:
            self.redirect_uri = self._redirect_uri_for(
                host, server.port, redirect_uri_trailing_slash
            )
            auth_url, state = self.authorization_url(**kwargs)
            server.expect_state(state)
            if open_browser:
                webbrowser.get(browser).open(auth_url, new=1, autoraise=True)
            if authorization_prompt_message:
                print(authorization_prompt_message.format(url=auth_url))
            params = server.wait(deadline)
            try:
                code = self._code_from_params(params)
                self.fetch_token(code=code, audience=token_audience)
            except AuthorizationError:
                raise
            except Exception as exc:
                server.finish(f"The sign-in could not be completed ({type(exc).__name__}).")
                raise
            server.finish()
        return self.credentials

    def run_headless(
        self,
        host: str = "localhost",
        port: int | None = None,
        authorization_prompt_message: str | None = _DEFAULT_HEADLESS_PROMPT_MESSAGE,
        input_message: str = _DEFAULT_HEADLESS_INPUT_MESSAGE,
        redirect_uri_trailing_slash: bool = True,
        token_audience: str | None = None,
        *,
        input_func: Callable[[str], str] | None = None,
        output: Callable[[str], Any] | None = None,
        **kwargs: Any,
    ) -> google.oauth2.credentials.Credentials:
        """Run the flow without a local server or browser ("copy and paste" mode).

        For SSH sessions and containers, where the browser runs on another
        machine. The authorization URL is printed; the user opens it anywhere,
        approves, and the browser is redirected to a loopback address that
        fails to load. The user copies that full address back here; its
        ``state`` is checked and the code exchanged. Also available as
        ``flask-google-flow --headless``.

        :param host: loopback host of the redirect URI.
        :param port: port of the redirect URI; ``None`` picks a currently free
            port, so no local program receives the redirect.
        :param authorization_prompt_message: printed with ``{url}`` (the
            authorization URL) and ``{redirect_uri}`` replaced; ``None`` or
            empty prints nothing.
        :param input_message: the prompt for the pasted address.
        :param redirect_uri_trailing_slash: end the redirect URI with ``/``.
        :param token_audience: sent to the token endpoint as ``audience``.
        :param input_func: reads the pasted address (default ``input``).
        :param output: writes the prompt (default ``print``).
        :param kwargs: passed to :meth:`~Flow.authorization_url`.
        :returns: the user's credentials.
        :raises ValueError: if the pasted text is not the redirected address.
        :raises StateMismatchError: if it belongs to another authorization request.
        :raises AccessDeniedError: if the user declined (other ``error=`` answers
            raise :class:`~flask_google_flow.exceptions.AuthorizationError`).
        :raises ProviderError: if the code exchange fails.
        """
        read = input if input_func is None else input_func
        write = print if output is None else output
        if port is None:
            port = _free_port(host)
        self.redirect_uri = self._redirect_uri_for(host, port, redirect_uri_trailing_slash)
        auth_url, _state = self.authorization_url(**kwargs)
        if authorization_prompt_message:
            write(authorization_prompt_message.format(url=auth_url, redirect_uri=self.redirect_uri))
        pasted = ""
        while not pasted:
            pasted = read(input_message).strip().strip("'\"<>")
        parts = urlsplit(pasted)
        if not parts.query:
            raise ValueError(
                "paste the whole address the browser was sent to: it starts with "
                f"{self.redirect_uri} and contains '?state=...'"
            )
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        code = self._code_from_params(params)
        self.fetch_token(code=code, audience=token_audience)
        return self.credentials


def _free_port(host: str) -> int:
    """A port that is free on ``host`` right now (best effort)."""
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1" if address == "localhost" else address, 0))
        return int(sock.getsockname()[1])
