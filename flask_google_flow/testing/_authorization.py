"""Validation of authorization requests, shared by the HTTP endpoint and ``approve()``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from ._model import Client, canonical_scopes, is_known_scope

_CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PROMPTS = {"none", "consent", "select_account"}


class AuthorizationRequestError(Exception):
    """An authorization request the fake refuses, as Google would.

    :ivar error: the OAuth error code (``invalid_request``, ``redirect_uri_mismatch``, ...).
    :ivar description: a human-readable reason.
    :ivar redirect_url: where Google would send the browser with ``error=``, or
        ``None`` when the client or redirect URI cannot be trusted and Google
        shows an error page instead.
    """

    def __init__(self, error: str, description: str, redirect_url: str | None = None) -> None:
        self.error = error
        self.description = description
        self.redirect_url = redirect_url
        super().__init__(f"{error}: {description}")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request.

    :ivar client: the requesting client.
    :ivar redirect_uri: the registered redirect URI the response goes to.
    :ivar scopes: requested scopes, canonical (``email``, ``profile``, ``openid``, URLs).
    :ivar state: the opaque ``state`` to pass back, if any.
    :ivar code_challenge: the PKCE S256 challenge.
    :ivar nonce: the OIDC nonce to put into the ID token.
    :ivar offline: ``access_type=offline`` was asked for.
    :ivar prompts: the ``prompt`` values.
    :ivar login_hint: the ``login_hint``.
    :ivar hosted_domain: the ``hd`` hint.
    :ivar include_granted_scopes: incremental authorization was asked for.
    :ivar params: the raw parameters (for re-posting from the consent page).
    """

    client: Client
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str
    nonce: str | None
    offline: bool
    prompts: frozenset[str]
    login_hint: str | None
    hosted_domain: str | None
    include_granted_scopes: bool
    params: Mapping[str, str]


def add_query(url: str, params: Mapping[str, str | None]) -> str:
    """Return ``url`` with ``params`` (``None`` values dropped) appended to its query."""
    parts = urlsplit(url)
    extra = urlencode({key: value for key, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def parse_authorization_request(
    params: Mapping[str, str], clients: Mapping[str, Client], issuer: str
) -> AuthorizationRequest:
    """Validate an authorization request like a strict Google would.

    An unknown client or a redirect URI that is not registered for it yields an
    error with no ``redirect_url`` (Google shows an error page). Every other
    problem — response type, scope, PKCE, prompt — yields an error whose
    ``redirect_url`` carries ``error``, ``error_description``, ``state`` and ``iss``.

    :param params: the query (or form) parameters.
    :param clients: registered clients by id.
    :param issuer: the ``iss`` value of authorization responses.
    :raises AuthorizationRequestError: if the request is invalid.
    """
    client_id = params.get("client_id")
    if not client_id:
        raise AuthorizationRequestError("invalid_request", "Missing required parameter: client_id")
    client = clients.get(client_id)
    if client is None:
        raise AuthorizationRequestError("invalid_client", "The OAuth client was not found.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri:
        raise AuthorizationRequestError(
            "invalid_request", "Missing required parameter: redirect_uri"
        )
    if not client.accepts_redirect_uri(redirect_uri):
        raise AuthorizationRequestError(
            "redirect_uri_mismatch",
            "The redirect URI in the request does not match the ones authorized for the client.",
        )
    state = params.get("state")

    def refuse(error: str, description: str) -> AuthorizationRequestError:
        url = add_query(
            redirect_uri,
            {"error": error, "error_description": description, "state": state, "iss": issuer},
        )
        return AuthorizationRequestError(error, description, url)

    response_type = params.get("response_type")
    if not response_type:
        raise refuse("invalid_request", "Missing required parameter: response_type")
    if response_type != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported.")
    scopes = canonical_scopes(params.get("scope", ""))
    if not scopes:
        raise refuse("invalid_request", "Missing required parameter: scope")
    unknown = [scope for scope in scopes if not is_known_scope(scope)]
    if unknown:
        raise refuse("invalid_scope", f"Some requested scopes were invalid: {unknown}")
    code_challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if not code_challenge:
        raise refuse("invalid_request", "Missing required parameter: code_challenge (PKCE)")
    if method != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256.")
    if not _CODE_CHALLENGE.match(code_challenge):
        raise refuse("invalid_request", "Invalid code_challenge: expected 43 base64url chars.")
    access_type = params.get("access_type", "online")
    if access_type not in {"online", "offline"}:
        raise refuse("invalid_request", "Invalid access_type: must be online or offline.")
    prompts = frozenset(params.get("prompt", "").split())
    if prompts - _PROMPTS or ("none" in prompts and len(prompts) > 1):
        raise refuse("invalid_request", "Invalid prompt value.")
    include = params.get("include_granted_scopes", "false")
    if include not in {"true", "false"}:
        raise refuse("invalid_request", "include_granted_scopes must be true or false.")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        code_challenge=code_challenge,
        nonce=params.get("nonce"),
        offline=access_type == "offline",
        prompts=prompts,
        login_hint=params.get("login_hint"),
        hosted_domain=params.get("hd"),
        include_granted_scopes=include == "true",
        params=dict(params),
    )
