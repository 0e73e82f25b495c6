"""The OAuth 2.0 client the flow layer runs on: requests-oauthlib with our rules plugged in.

:class:`~flask_google_flow.flow.Flow` does its OAuth work through a
:class:`requests_oauthlib.OAuth2Session`, as ``google_auth_oauthlib`` does.
The rules this package adds are plugged into that session through the
extension points requests-oauthlib and oauthlib document, never by changing
their code or environment:

* :class:`FlowClient`, an oauthlib ``WebApplicationClient`` given to the
  session with ``OAuth2Session(client=...)``: builds the authorization URL with
  :func:`authorization_request_url` under the loopback transport rule (so no
  ``OAUTHLIB_INSECURE_TRANSPORT`` is needed for ``http://127.0.0.1``), and
  parses the token response with
  :func:`~flask_google_flow.core.token_response.parse_token_body` (JSON,
  ``Bearer``, granted scopes without oauthlib's "Scope has changed" ``Warning``,
  expiry on an injectable clock).
* :class:`FlowSession`, the ``OAuth2Session`` subclass whose requests default
  to a timeout.
* :class:`TokenRequestGuard`, an ``access_token_request`` compliance hook
  that turns off redirects for the token request and checks its HTTP status
  before any other response hook runs.
"""

from __future__ import annotations

import functools
import hashlib
import time
import weakref
from base64 import urlsafe_b64encode
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import requests_oauthlib
from oauthlib.oauth2 import OAuth2Token, WebApplicationClient

from .hosts import check_transport
from .token_response import check_token_status, parse_token_body

__all__ = [
    "DEFAULT_TIMEOUT",
    "FlowClient",
    "FlowSession",
    "TokenRequestGuard",
    "authorization_request_url",
    "build_session",
    "code_challenge_s256",
    "equip_session",
]

#: Default timeout, in seconds, of every HTTP request a flow makes.
DEFAULT_TIMEOUT: float = 10.0

Timeout = float | tuple[float, float]


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
    ``None`` or empty are left out. The package's one URL builder.

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
    """The authorization URL up to ``state``: the same for every sign-in of a client."""
    query: list[tuple[str, str]] = [("response_type", "code"), ("client_id", client_id)]
    if redirect_uri:
        query.append(("redirect_uri", redirect_uri))
    if scope:
        query.append(("scope", scope))
    separator = "&" if urlsplit(auth_uri).query else "?"
    return f"{auth_uri}{separator}{urlencode(query, quote_via=quote)}"


class FlowClient(WebApplicationClient):
    """oauthlib's authorization-code client with this package's rules.

    :param client_id: the OAuth client id.
    :param allow_insecure_http: accept plain ``http`` towards non-loopback hosts.
    :param clock: a :func:`time.time`-like callable; token expiry is counted on it.
    :param kwargs: passed to :class:`oauthlib.oauth2.WebApplicationClient`.
    """

    def __init__(
        self,
        client_id: str,
        *,
        allow_insecure_http: bool = False,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(client_id, **kwargs)
        #: Whether plain ``http`` is accepted for non-loopback hosts.
        self.allow_insecure_http = allow_insecure_http
        #: The clock token expiry is counted on.
        self.clock = clock

    def prepare_request_uri(  # type: ignore[override]
        self,
        uri: str,
        redirect_uri: str | None = None,
        scope: str | Sequence[str] | None = None,
        state: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = "plain",
        **kwargs: Any,
    ) -> str:
        """The authorization URL, under the loopback transport rule.

        Plain ``http`` is accepted for loopback hosts (RFC 8252), otherwise only
        with ``allow_insecure_http``; no environment variable is consulted.

        :raises InsecureTransportError: for the endpoint or the redirect URI.
        """
        check_transport(uri, "authorization endpoint", allow_insecure_http=self.allow_insecure_http)
        check_transport(redirect_uri, "redirect URI", allow_insecure_http=self.allow_insecure_http)
        if code_challenge:
            kwargs = {
                "code_challenge": code_challenge,
                "code_challenge_method": code_challenge_method,
                **kwargs,
            }
        return authorization_request_url(
            uri,
            self.client_id,
            redirect_uri=redirect_uri,
            scope=self.scope if scope is None else scope,
            state=state or "",
            **kwargs,
        )

    def prepare_request_body(  # type: ignore[override]
        self, code: str | None = None, redirect_uri: str | None = None, **kwargs: Any
    ) -> str:
        """The token request body; the redirect URI it carries obeys the transport rule.

        :raises InsecureTransportError: for a plain-http non-loopback redirect URI.
        """
        check_transport(redirect_uri, "redirect URI", allow_insecure_http=self.allow_insecure_http)
        return str(super().prepare_request_body(code=code, redirect_uri=redirect_uri, **kwargs))

    def parse_request_body_response(  # type: ignore[override]
        self, body: str, scope: str | Sequence[str] | None = None, **kwargs: Any
    ) -> OAuth2Token:
        """Parse a token response body with this package's checks.

        A granted scope set that differs from the requested one is accepted
        (``token.scope_changed`` tells), never raised as a ``Warning``.

        :raises ProviderError: (its subclasses) for anything that is not a
            valid Bearer token response.
        """
        payload = parse_token_body(body, clock=self.clock)
        token = OAuth2Token(payload, old_scope=self.scope if scope is None else scope)
        self.token = token
        self.populate_token_attributes(token)
        return token


class FlowSession(requests_oauthlib.OAuth2Session):
    """An :class:`requests_oauthlib.OAuth2Session` whose requests have a default timeout.

    Every request sent without a ``timeout`` (or with ``timeout=None``) uses
    :attr:`default_timeout`.

    :param client_id: the OAuth client id.
    :param client: the oauthlib client (a :class:`FlowClient` by default).
    :param timeout: the default timeout, in seconds or ``(connect, read)``.
    :param kwargs: passed to :class:`requests_oauthlib.OAuth2Session`.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client: WebApplicationClient | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        if client is None:
            client = FlowClient(client_id or "", token=kwargs.get("token"))
        #: The :class:`FlowClient` of this session (``None`` for another client).
        self.flow_client: FlowClient | None = client if isinstance(client, FlowClient) else None
        #: Timeout of requests that are sent without one.
        self.default_timeout: Timeout = timeout
        super().__init__(client_id=client_id, client=client, **kwargs)

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> requests.Response:
        """Send a request (as :meth:`requests_oauthlib.OAuth2Session.request`), with a timeout."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class TokenRequestGuard:
    """``access_token_request`` compliance hook: no redirects, status checked first.

    Registered once per session by :func:`equip_session`. It adds
    ``allow_redirects=False`` to the token request and a per-request
    ``response`` hook (after the session's own response hooks) that runs
    :func:`~flask_google_flow.core.token_response.check_token_status`, before
    any ``access_token_response`` compliance hook sees the answer.
    """

    def __init__(self, session: requests.Session) -> None:
        self._session = weakref.ref(session)

    def __call__(
        self, url: str, headers: dict[str, str], request_kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """Adjust the token request; the signature requests-oauthlib calls hooks with."""
        request_kwargs["allow_redirects"] = False
        hooks = dict(request_kwargs.get("hooks") or {})
        response_hooks = hooks.get("response")
        if response_hooks is None:
            # A request's response hooks replace the session's: keep those first.
            session = self._session()
            response_hooks = list(session.hooks.get("response", [])) if session else []
        elif callable(response_hooks):
            response_hooks = [response_hooks]
        hooks["response"] = [*response_hooks, _check_status_hook]
        request_kwargs["hooks"] = hooks
        return url, headers, request_kwargs


def _check_status_hook(response: requests.Response, **_kwargs: Any) -> requests.Response:
    check_token_status(response)
    return response


def equip_session(session: object) -> None:
    """Register a :class:`TokenRequestGuard` on *session* unless it has one (idempotent).

    Objects that are not ``OAuth2Session``-like (test doubles) are left alone.
    """
    hooks = getattr(session, "compliance_hook", None)
    if not isinstance(session, requests_oauthlib.OAuth2Session) or not isinstance(hooks, dict):
        return
    if any(isinstance(hook, TokenRequestGuard) for hook in hooks.get("access_token_request", ())):
        return
    session.register_compliance_hook("access_token_request", TokenRequestGuard(session))


def build_session(
    client_id: str,
    scopes: Sequence[str] | None,
    *,
    allow_insecure_http: bool = False,
    clock: Callable[[], float] = time.time,
    timeout: Timeout = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> FlowSession:
    """A :class:`FlowSession` on a :class:`FlowClient` for *client_id*, equipped.

    :param client_id: the OAuth client id.
    :param scopes: the scopes to request.
    :param allow_insecure_http: see :class:`FlowClient`.
    :param clock: see :class:`FlowClient`.
    :param timeout: see :class:`FlowSession`.
    :param kwargs: passed to :class:`requests_oauthlib.OAuth2Session`
        (``redirect_uri``, ``state``, ``token``, ``client``...).
    """
    client = kwargs.pop("client", None)
    if client is None:
        client = FlowClient(
            client_id,
            allow_insecure_http=allow_insecure_http,
            clock=clock,
            token=kwargs.get("token"),
        )
    session = FlowSession(
        client_id=client_id, client=client, scope=scopes, timeout=timeout, **kwargs
    )
    equip_session(session)
    return session
