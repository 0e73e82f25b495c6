"""The rules of a token endpoint's answer (RFC 6749 §5.1, §5.2), in one place.

Two steps, because ``requests-oauthlib`` runs the application's compliance
hooks between them: :func:`~flask_google_flow.core.token_response.check_token_status` looks at the
HTTP status as soon as the answer arrives (redirects, 5xx/429, 4xx error objects), and
:func:`~flask_google_flow.core.token_response.parse_token_body` checks the body that
is finally parsed (JSON object,
``access_token``, ``Bearer``, ``scope``, ``expires_in``).
:func:`parse_token_response` runs both on a :class:`requests.Response`.

Every exception raised here is one of
:class:`~flask_google_flow.exceptions.ProviderError`'s family, and no message
contains anything from the answer but short, bounded excerpts of the error
code and description.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import requests

from ..exceptions import (
    MalformedResponseError,
    OAuthErrorResponse,
    OAuthlibInvalidGrantError,
    ProviderUnavailableError,
)

__all__ = ["check_token_status", "parse_token_body", "parse_token_response", "short"]


def short(text: object, limit: int = 200) -> str:
    """A printable, bounded excerpt of a provider-supplied string for messages."""
    value = str(text)
    shown = "".join(ch if ch.isprintable() else "?" for ch in value[:limit])
    return shown + ("…" if len(value) > limit else "")


def _oauth_error(payload: dict[str, Any], status: int | None) -> OAuthErrorResponse:
    error = payload.get("error")
    error = short(error, 100) if isinstance(error, str) and error else "unknown_error"
    description = payload.get("error_description")
    description = short(description, 300) if isinstance(description, str) else None
    cls = OAuthlibInvalidGrantError if error == "invalid_grant" else OAuthErrorResponse
    return cls(error, description, status=status)


def _json_or_none(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def check_token_status(response: requests.Response) -> None:
    """Refuse a token endpoint answer by its HTTP status.

    :raises MalformedResponseError: a redirect (never followed), or a non-2xx
        answer without an OAuth error object.
    :raises ProviderUnavailableError: HTTP 5xx or 429.
    :raises OAuthErrorResponse: a 4xx answer with an OAuth error object
        (:class:`~flask_google_flow.exceptions.InvalidGrantError` for ``invalid_grant``).
    """
    status = response.status_code
    if 200 <= status < 300:
        return
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
    _is_json, payload = _json_or_none(response.text)
    if isinstance(payload, dict) and "error" in payload:
        raise _oauth_error(payload, status)
    raise MalformedResponseError(
        f"the token endpoint answered HTTP {status} without an OAuth error object",
        status=status,
    )


def parse_token_body(
    text: str, *, status: int | None = None, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Check a token response body and return the token.

    :param text: the body.
    :param status: the HTTP status, when known (for exception attributes only).
    :param clock: a :func:`time.time`-like callable; ``expires_at`` is
        ``clock() + expires_in``.
    :returns: the parsed JSON object, with ``scope`` as a list and, when the
        provider gave ``expires_in``, ``expires_at`` (unix seconds).
    :raises OAuthErrorResponse: an OAuth error object.
    :raises MalformedResponseError: not JSON, not an object, no ``access_token``,
        a ``token_type`` other than ``Bearer``, or a malformed ``scope`` or ``expires_in``.
    """
    is_json, payload = _json_or_none(text)
    if isinstance(payload, dict) and "error" in payload:
        raise _oauth_error(payload, status)
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
    check_bearer(payload.get("token_type"), status=status)
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
        payload["expires_at"] = clock() + expires_in
    return payload


def check_bearer(token_type: object, *, status: int | None = None) -> None:
    """Refuse a ``token_type`` other than ``Bearer`` (compared case-insensitively).

    :raises MalformedResponseError: naming the type (a short excerpt) or saying it is missing.
    """
    if isinstance(token_type, str) and token_type.lower() == "bearer":
        return
    shown = repr(short(token_type, 20)) if isinstance(token_type, str) else "missing"
    raise MalformedResponseError(
        f"the token response's token_type is {shown}, expected Bearer", status=status
    )


def parse_token_response(
    response: requests.Response, *, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """:func:`check_token_status`, then :func:`parse_token_body`, of *response*.

    :param response: the token endpoint's response (redirects not followed).
    :param clock: as for :func:`parse_token_body`.
    :returns: the token.
    """
    check_token_status(response)
    return parse_token_body(response.text, status=response.status_code, clock=clock)
