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
  (default :data:`~flask_google_flow.core.oauth_client.DEFAULT_TIMEOUT` seconds)
  unless ``fetch_token(timeout=...)``
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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import google.auth.transport.requests
import google.oauth2.credentials
import requests
import requests_oauthlib
from oauthlib.oauth2 import is_secure_transport
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from . import helpers
from .core import loopback
from .core.client_secrets import load_client_secrets_file, validate_client_config
from .core.failures import failure_kind
from .core.hosts import check_transport, is_loopback_host
from .core.log_redaction import install_library_filters
from .core.oauth_client import (
    DEFAULT_TIMEOUT,
    FlowSession,
    Timeout,
    authorization_request_url,
    build_session,
    code_challenge_s256,
    equip_session,
)
from .core.token_response import check_bearer, parse_token_response, short
from .exceptions import (
    AccessDeniedError,
    AuthorizationError,
    FlowError,
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

#: Alias of :class:`~flask_google_flow.exceptions.LocalServerTimeoutError`
#: under the reference's name (an :class:`AttributeError`).
WSGITimeoutError = LocalServerTimeoutError


def _host(url: str) -> str:
    """The host of *url*, for a message (never the rest of the URL)."""
    return urlsplit(url).hostname or "?"


_VERIFIER_CHARS = frozenset(string.ascii_letters + string.digits + "-._~")
_FlowT = TypeVar("_FlowT", bound="Flow")


class Flow:
    """OAuth 2.0 authorization code flow with Google (or any compliant provider).

    Build one with :meth:`from_client_secrets_file` or :meth:`from_client_config`;
    send the user to :meth:`authorization_url`; exchange the code with
    :meth:`fetch_token`; read :attr:`credentials`.

    As in ``google_auth_oauthlib``, the OAuth 2.0 work is done by the
    :class:`requests_oauthlib.OAuth2Session` at :attr:`oauth2session`:
    :meth:`authorization_url` calls ``oauth2session.authorization_url(auth_uri,
    ...)`` and :meth:`fetch_token` calls ``oauth2session.fetch_token(token_uri,
    ...)``, so tests that patch those methods and settings put on the session
    (``verify``, ``proxies``, mounted adapters, compliance hooks) keep working.
    The protections of this package are layered around those calls (see
    :mod:`flask_google_flow.core.oauth_client`).

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
        hosts (redirect URI, authorization endpoint). Off by default; meant
        for test setups only.
    :param timeout: timeout in seconds (or a ``(connect, read)`` tuple) of the
        token request; default :data:`~flask_google_flow.core.oauth_client.DEFAULT_TIMEOUT`.
    :param clock: a :func:`time.time`-like callable on which token expiry is
        counted (``expires_at = clock() + expires_in``); default :func:`time.time`.
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
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        install_library_filters()
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
        self.timeout: Timeout = timeout
        #: The clock token expiry is counted on.
        self.clock: Callable[[], float] = clock
        self.redirect_uri = redirect_uri
        #: The PKCE code verifier (``None`` until generated or given).
        self.code_verifier: str | None = code_verifier
        #: Whether :meth:`authorization_url` generates a verifier when none is set.
        self.autogenerate_code_verifier: bool = autogenerate_code_verifier
        # The state of the last authorization URL (checked on the way back).
        self._state: str | None = None

    # -- construction -------------------------------------------------------

    @classmethod
    def from_client_config(
        cls: type[_FlowT],
        client_config: Mapping[str, Any] | str,
        scopes: Sequence[str] | None,
        **kwargs: Any,
    ) -> _FlowT:
        """Create a flow from a client configuration in Google's client-secrets format.

        The session is a :class:`~flask_google_flow.core.oauth_client.FlowSession`
        (an ``OAuth2Session``) on a
        :class:`~flask_google_flow.core.oauth_client.FlowClient`.

        :param client_config: the configuration (``{"web": {...}}`` or
            ``{"installed": {...}}``), or the same document as JSON text.
        :param scopes: the scopes to request.
        :param kwargs: ``code_verifier``, ``autogenerate_code_verifier``,
            ``allow_insecure_http``, ``timeout`` and ``clock`` go to the
            constructor; everything else (``redirect_uri``, ``state``, ...) to
            :class:`requests_oauthlib.OAuth2Session`.
        :returns: the new flow.
        :raises ValueError: (:class:`~flask_google_flow.exceptions.ClientSecretsError`)
            if the configuration is not in the expected format.
        """
        client_type, config = validate_client_config(client_config)
        code_verifier = kwargs.pop("code_verifier", None)
        autogenerate_code_verifier = kwargs.pop("autogenerate_code_verifier", True)
        options = {
            "allow_insecure_http": kwargs.pop("allow_insecure_http", False),
            "timeout": kwargs.pop("timeout", DEFAULT_TIMEOUT),
            "clock": kwargs.pop("clock", time.time),
        }
        session = build_session(config[client_type]["client_id"], scopes, **options, **kwargs)
        return cls(
            session,
            client_type,
            config,
            kwargs.get("redirect_uri"),
            code_verifier,
            autogenerate_code_verifier,
            **options,
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

        Any value is accepted here, as by the reference; it is checked when a
        request is built: a plain-``http`` URI for a non-loopback host makes
        :meth:`authorization_url` and :meth:`fetch_token` raise
        :class:`~flask_google_flow.exceptions.InsecureTransportError` unless the
        flow allows insecure http.
        """
        return self.oauth2session.redirect_uri

    @redirect_uri.setter
    def redirect_uri(self, value: str | None) -> None:
        self.oauth2session.redirect_uri = value

    def _check_transport(self, url: object, what: str) -> None:
        check_transport(url, what, allow_insecure_http=self.allow_insecure_http)

    def _session_checks_transport(self) -> bool:
        """Whether the session's client applies the transport rule itself (a ``FlowClient``)."""
        session = self.oauth2session
        return isinstance(session, FlowSession) and session.flow_client is not None

    def _prepare_session(self) -> requests_oauthlib.OAuth2Session:
        """Hand this flow's settings to its session (when it is ours) and equip it."""
        session = self.oauth2session
        if isinstance(session, FlowSession):
            session.default_timeout = self.timeout
            client = session.flow_client
            if client is not None:
                client.allow_insecure_http = self.allow_insecure_http
                client.clock = self.clock
        equip_session(session)
        return session

    # -- step 1: authorization URL -----------------------------------------

    def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
        """Build the URL to send the user to, and the ``state`` it carries.

        Calls ``oauth2session.authorization_url(auth_uri, access_type="offline",
        code_challenge=..., code_challenge_method="S256", **kwargs)``: a PKCE
        S256 challenge for :attr:`code_verifier` (generated first, 128
        characters, if none is set and :attr:`autogenerate_code_verifier` is
        true); caller-given values win.

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
        if not self._session_checks_transport():
            self._check_transport(auth_uri, "authorization endpoint")
            self._check_transport(self.redirect_uri, "redirect URI")
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
        session = self._prepare_session()
        url, state = session.authorization_url(auth_uri, **kwargs)
        self._state = state if isinstance(state, str) else None
        return url, state

    # -- step 2: code exchange ---------------------------------------------

    def _expected_state(self) -> str | None:
        if self._state:
            return self._state
        given = getattr(self.oauth2session, "state", None)  # OAuth2Session(state="...")
        return given if isinstance(given, str) and given else None

    def _code_from_params(self, params: Mapping[str, str]) -> str:
        """Check an authorization response's parameters and return its code."""
        expected = self._expected_state()
        if expected is not None:
            received = params.get("state") or ""
            if not hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8")):
                raise OAuthlibStateMismatchError(
                    "the state of the authorization response does not match the state "
                    "this flow sent (possible CSRF, or a response meant for another sign-in)"
                )
        if "error" in params:
            error = short(params["error"] or "unknown_error", 100)
            description = params.get("error_description")
            description = short(description, 300) if description else None
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

    def _check_token_endpoint(self, token_uri: str) -> None:
        self._check_transport(token_uri, "token endpoint")
        if not is_secure_transport(token_uri):
            raise OAuthlibInsecureTransportError(
                f"the token endpoint ({urlsplit(token_uri).hostname}) uses plain http: token "
                "endpoints must be https. Serve a local test server over TLS (trust its "
                "certificate with verify= or a CA bundle). If you set "
                "OAUTHLIB_INSECURE_TRANSPORT yourself, requests-oauthlib's behaviour applies, "
                "and this package still allows plain http only towards loopback hosts."
            )

    def fetch_token(self, **kwargs: Any) -> dict[str, Any]:
        """Exchange the authorization code for tokens.

        Calls ``oauth2session.fetch_token(token_uri, client_secret=...,
        code_verifier=..., **kwargs)``. Pass either ``code=`` or
        ``authorization_response=`` (the full URL the provider redirected to;
        this flow checks its ``state`` and ``error=`` first, then passes its
        code on as ``code=``).

        Around that call: the token endpoint must be https (a plain-http one
        raises :class:`~flask_google_flow.exceptions.InsecureTransportError`);
        the request has a timeout (:attr:`timeout` unless ``timeout=`` is
        given) and does not follow redirects; the answer's status is checked
        before any compliance hook runs; a granted scope set different from
        the requested one is accepted (see ``credentials.granted_scopes``),
        never raised as oauthlib's ``Warning``.

        :param kwargs: ``code``, ``authorization_response``, ``timeout``,
            ``client_secret``, ``code_verifier`` and anything else
            :meth:`requests_oauthlib.OAuth2Session.fetch_token` takes
            (``headers``, ``auth``, ``include_client_id``, ``verify``,
            ``proxies``, ``cert``...); other keywords (e.g. ``audience``) are
            sent as form fields when not empty.
        :returns: the token (an oauthlib ``OAuth2Token``, a :class:`dict`),
            also stored in ``oauth2session.token``.
        :raises ValueError: if neither ``code`` nor ``authorization_response`` is given.
        :raises StateMismatchError: if the authorization response's state is wrong.
        :raises AuthorizationError: if the authorization response carries ``error=``.
        :raises InsecureTransportError: for a plain-http token endpoint.
        :raises ProviderTimeoutError: if the token endpoint does not answer in time.
        :raises ProviderUnavailableError: if it cannot be reached or answers 5xx/429.
        :raises OAuthErrorResponse: if it answers with an OAuth error
            (:class:`~flask_google_flow.exceptions.InvalidGrantError` for
            ``invalid_grant``).
        :raises MalformedResponseError: if the answer is not a valid Bearer token response.
        """
        authorization_response = kwargs.pop("authorization_response", None)
        if not kwargs.get("code") and authorization_response:
            kwargs["code"] = self._code_from_authorization_response(authorization_response)
        token_uri = self.client_config["token_uri"]
        self._check_token_endpoint(token_uri)
        if not self._session_checks_transport():
            self._check_transport(self.redirect_uri, "redirect URI")
        kwargs.setdefault("client_secret", self.client_config.get("client_secret"))
        kwargs.setdefault("code_verifier", self.code_verifier)
        session = self._prepare_session()
        if not isinstance(session, FlowSession) and kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        try:
            token = session.fetch_token(token_uri, **kwargs)
        except FlowError:
            raise
        except requests.Timeout:
            timeout = kwargs.get("timeout") or self.timeout
            raise ProviderRequestTimeoutError(
                f"the token endpoint ({_host(token_uri)}) did not answer within {timeout} seconds"
            ) from None
        except requests.ConnectionError as exc:
            raise ProviderConnectionError(
                f"the token endpoint ({_host(token_uri)}) could not be reached "
                f"({failure_kind(exc)})"
            ) from None
        except requests.RequestException as exc:
            raise ProviderUnavailableError(
                f"the request to the token endpoint ({_host(token_uri)}) failed "
                f"({failure_kind(exc)})"
            ) from None
        except oauthlib_errors.MissingTokenError:
            # Another oauthlib client parsed the answer: same types as ours.
            raise MalformedResponseError("the token response lacks an access_token") from None
        except oauthlib_errors.OAuth2Error as exc:
            error = short(exc.error or "unknown_error", 100)
            description = short(exc.description, 300) if exc.description else None
            cls = OAuthlibInvalidGrantError if error == "invalid_grant" else OAuthErrorResponse
            raise cls(error, description, status=exc.status_code) from None
        except Warning as exc:
            # oauthlib's "Scope has changed" from another client; it carries the token.
            scope_token = getattr(exc, "token", None)
            if not isinstance(scope_token, dict):
                raise
            token = scope_token
            session.token = token
        return self._checked_token(session, token)

    def _checked_token(self, session: Any, token: Any) -> Any:
        """Refuse a non-Bearer token that another client let through; recount expiry."""
        parsed_by_us = isinstance(session, FlowSession) and session.flow_client is not None
        if parsed_by_us or not isinstance(token, dict):
            return token
        try:
            check_bearer(token.get("token_type"))
            if not token.get("access_token"):
                raise MalformedResponseError("the token response lacks an access_token")
        except MalformedResponseError:
            session.token = {}
            raise
        if token.get("expires_in") is not None:
            token["expires_at"] = self.clock() + int(token["expires_in"])
        return token

    # -- results ------------------------------------------------------------

    @property
    def credentials(self) -> google.oauth2.credentials.Credentials:
        """New :class:`google.oauth2.credentials.Credentials` from the fetched token.

        Made by :func:`flask_google_flow.helpers.credentials_from_session`:
        access, refresh and ID tokens, ``token_uri``, ``client_id`` and
        ``client_secret`` (so it can refresh itself), ``scopes`` (the granted
        ones when the provider reported them), ``granted_scopes`` and ``expiry``.

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
        flow's ``state``, sent to the redirect URI's own ``Host``) ends the
        wait: a request for another ``Host`` (DNS rebinding) gets 421, other
        paths get 404, a wrong or missing state gets an error page, and the
        server keeps waiting. The browser's
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
            server.expect_host(f"{loopback.format_host(host)}:{server.port}")
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
