"""Framework-neutral exceptions of the flow layer and the provider client.

These are raised by :mod:`flask_google_flow.flow`, :mod:`flask_google_flow.core.provider`
and :mod:`flask_google_flow.core.id_token`; they know nothing about HTTP responses.
The Flask layer translates them into the HTTP errors of
:mod:`flask_google_flow.ext.errors`.

No message built here ever contains a token, an authorization code, a client
secret or a PKCE verifier: messages name what went wrong and where, never the
secret material involved.
"""

from __future__ import annotations

import requests as _requests
from oauthlib.oauth2.rfc6749 import errors as _oauthlib_errors_mod


class FlowError(Exception):
    """Base class of every exception raised by the flow layer."""


class ClientSecretsError(FlowError, ValueError):
    """Client secrets (a file or a mapping) are missing, unreadable or malformed.

    A :class:`ValueError`, as in ``google_auth_oauthlib``. The message names the
    file (when there is one) and what is wrong with it, never the secret.
    """


class InsecureTransportError(FlowError, ValueError):
    """A plain-``http`` URL was given where ``https`` is required.

    Plain ``http`` is accepted only for loopback hosts (``localhost``,
    ``127.0.0.0/8``, ``::1``) as RFC 8252 allows, unless the caller opts in
    explicitly for that flow. Token endpoints must always be ``https``
    (requests-oauthlib refuses anything else unless the application itself
    sets ``OAUTHLIB_INSECURE_TRANSPORT``, which this package never does).
    """


class StateMismatchError(FlowError, ValueError):
    """The ``state`` of an authorization response is not the one that was sent."""


class AuthorizationError(FlowError):
    """The authorization server answered the authorization request with ``error=``.

    :ivar error: the OAuth error code, e.g. ``"access_denied"``.
    :ivar description: the provider's ``error_description``, if any (shown escaped).
    """

    def __init__(self, error: str, description: str | None = None) -> None:
        self.error = error
        self.description = description
        message = f"authorization failed: {error}"
        if description:
            message += f" ({description})"
        super().__init__(message)


class AccessDeniedError(AuthorizationError):
    """The user declined to grant access (``error=access_denied``)."""


class ProviderError(FlowError):
    """Talking to the provider's token, certs, revoke or discovery endpoint failed.

    :ivar endpoint: which endpoint, e.g. ``"token"``.
    :ivar status: the HTTP status of the answer, or ``None`` when there was none.
    """

    def __init__(self, message: str, *, endpoint: str = "token", status: int | None = None) -> None:
        self.endpoint = endpoint
        self.status = status
        super().__init__(message)


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or answered with a 5xx status."""


class ProviderTimeoutError(ProviderError, TimeoutError):
    """The provider did not answer within the configured timeout."""


class MalformedResponseError(ProviderError):
    """The provider's answer is not what the protocol requires.

    For example a token response that is not a JSON object, lacks
    ``access_token`` or has a ``token_type`` other than ``Bearer``.
    """


class OAuthErrorResponse(ProviderError):
    """The token endpoint answered with an OAuth error object (RFC 6749 §5.2).

    :ivar error: the OAuth error code, e.g. ``"invalid_grant"``.
    :ivar description: the provider's ``error_description``, if any.
    """

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        endpoint: str = "token",
        status: int | None = None,
    ) -> None:
        self.error = error
        self.description = description
        message = f"the {endpoint} endpoint refused the request: {error}"
        if description:
            message += f" ({description})"
        super().__init__(message, endpoint=endpoint, status=status)


class InvalidGrantError(OAuthErrorResponse):
    """``invalid_grant``: the code or refresh token is expired, used or revoked."""


class IDTokenError(FlowError, ValueError):
    """An ID token failed verification.

    :ivar reason: a short machine-readable reason such as ``"signature"``,
        ``"audience"``, ``"issuer"``, ``"expired"``, ``"nonce"``,
        ``"hosted_domain"``, ``"algorithm"`` or ``"malformed"``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


class HostedDomainError(IDTokenError):
    """The ID token's ``hd`` claim is missing or not the configured Workspace domain."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="hosted_domain")


# ---------------------------------------------------------------------------
# Loopback redirect server (InstalledAppFlow.run_local_server)
# ---------------------------------------------------------------------------


class LocalServerError(FlowError, OSError):
    """The loopback redirect server could not start, e.g. its port is already in use.

    An :class:`OSError` (with ``errno`` set, usually ``EADDRINUSE``), as the
    reference's failing ``bind()`` is.
    """


class LocalServerTimeoutError(FlowError, AttributeError):
    """No valid authorization callback reached the loopback server before the deadline.

    Raised by ``InstalledAppFlow.run_local_server(timeout_seconds=...)``. It is an
    :class:`AttributeError` because ``google_auth_oauthlib``'s ``WSGITimeoutError``
    is one, so ``except AttributeError`` (or ``except WSGITimeoutError``) written
    for the reference keeps working. ``flask_google_flow.flow.WSGITimeoutError``
    is an alias of this class.
    """


# ---------------------------------------------------------------------------
# Compatibility subclasses.
#
# The flow layer raises these concrete classes. Catch them by the base classes
# above; the second base only exists so that ``except`` clauses written for
# google_auth_oauthlib (which lets oauthlib and requests exceptions escape)
# keep catching the same failures.
# ---------------------------------------------------------------------------


class OAuthlibStateMismatchError(StateMismatchError, _oauthlib_errors_mod.MismatchingStateError):
    """A :class:`StateMismatchError` that is also oauthlib's ``MismatchingStateError``."""

    def __init__(self, message: str) -> None:
        _oauthlib_errors_mod.MismatchingStateError.__init__(self)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


class OAuthlibInsecureTransportError(
    InsecureTransportError, _oauthlib_errors_mod.InsecureTransportError
):
    """An :class:`InsecureTransportError` that is also oauthlib's ``InsecureTransportError``."""

    def __init__(self, message: str) -> None:
        _oauthlib_errors_mod.InsecureTransportError.__init__(self)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


class OAuthlibInvalidGrantError(InvalidGrantError, _oauthlib_errors_mod.InvalidGrantError):
    """An :class:`InvalidGrantError` that is also oauthlib's ``InvalidGrantError``."""

    def __init__(
        self,
        error: str,
        description: str | None = None,
        *,
        endpoint: str = "token",
        status: int | None = None,
    ) -> None:
        _oauthlib_errors_mod.InvalidGrantError.__init__(
            self, description=description, status_code=status
        )
        # Same attributes and message as InvalidGrantError (oauthlib's __init__
        # above set its own message; ours never contains secret material).
        self.error = error
        self.description = description
        self.endpoint = endpoint
        self.status = status
        message = f"the {endpoint} endpoint refused the request: {error}"
        if description:
            message += f" ({description})"
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


class ProviderConnectionError(ProviderUnavailableError, _requests.exceptions.ConnectionError):
    """The provider could not be reached at all (DNS, refused, TLS, reset).

    A :class:`ProviderUnavailableError` that is also a
    :class:`requests.ConnectionError`.
    """

    def __init__(self, message: str, *, endpoint: str = "token") -> None:
        ProviderUnavailableError.__init__(self, message, endpoint=endpoint, status=None)
        self.response = None
        self.request = None


class ProviderRequestTimeoutError(ProviderTimeoutError, _requests.exceptions.Timeout):
    """The provider did not answer in time.

    A :class:`ProviderTimeoutError` (thus a :class:`TimeoutError`) that is also a
    :class:`requests.Timeout`.
    """

    def __init__(self, message: str, *, endpoint: str = "token") -> None:
        ProviderTimeoutError.__init__(self, message, endpoint=endpoint, status=None)
        self.response = None
        self.request = None
