"""The HTTP errors of the Flask layer.

Every failure of a sign-in ends in one of these exceptions. Each is a
:class:`werkzeug.exceptions.HTTPException`, so without any handler the browser
gets a small readable page with the right status code, and an app can replace
that page for one class or for all of them::

    @app.errorhandler(GoogleFlowError)
    def sign_in_failed(error):
        return render_template("sign_in_failed.html", error=error), error.code

4xx codes mean the request (the browser, the user, an attacker) is at fault;
502/504 mean the provider failed; 503 means the session backend is down.
Every page is sent with ``Cache-Control: no-store`` and
``Referrer-Policy: no-referrer``, and every message is safe to show: it never
contains a token, a code, a client secret or a PKCE verifier.
"""

from __future__ import annotations

import logging
from typing import Any

from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as _SansIOResponse

_logger = logging.getLogger("flask_google_flow")


def no_store(response: Any) -> Any:
    """Mark a response of the sign-in routes private: never cached, never a Referer.

    Its URL may carry ``code`` and ``state`` (the callback), and it may set
    the session cookie; RFC 9700 §4.2.4 asks that a page at the redirect URI
    not hand the authorization response to third parties it loads from.
    Used for every redirect and page the extension produces.
    """
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class GoogleFlowError(HTTPException):
    """Base class of every HTTP error raised by :class:`~flask_google_flow.GoogleFlow`.

    :ivar code: the HTTP status code.
    :ivar error_code: a stable machine-readable name (e.g. ``"unknown_state"``).
    :ivar description: a sentence for the user, safe to display.
    """

    #: ``None`` on this base class on purpose: Flask files
    #: ``@app.errorhandler(GoogleFlowError)`` under the class's ``code``, so a
    #: base with ``code = 500`` would only ever see the 500 subclasses. Every
    #: concrete error below sets its own status.
    code: int | None = None  # type: ignore[assignment]
    error_code: str = "sign_in_failed"
    title: str = "Sign-in failed"
    description: str = "Signing in with Google failed. Please try again."

    def __init__(self, description: str | None = None, response: Any = None) -> None:
        super().__init__(description, response)

    def get_headers(
        self,
        environ: Any = None,
        scope: Any = None,
    ) -> list[tuple[str, str]]:
        """Headers of the error page: HTML, never cached, never leaking a referrer."""
        return [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
        ]

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        """A small self-contained HTML page; everything shown is escaped."""
        return (
            "<!doctype html>\n"
            "<html lang=en><head><meta charset=utf-8>"
            f"<title>{self.code} {escape(self.title)}</title>"
            "<meta name=viewport content='width=device-width, initial-scale=1'></head>\n"
            "<body style='font-family:system-ui,sans-serif;max-width:40em;margin:3em auto'>\n"
            f"<h1>{escape(self.title)}</h1>\n<p>{escape(self.description or '')}</p>\n"
            "</body></html>\n"
        )

    def __str__(self) -> str:
        return f"{self.code} {self.title}: {self.description}"


class InvalidRequestError(GoogleFlowError):
    """400: a parameter of ``/authorize`` or ``/oauth2callback`` is malformed.

    Raised for duplicated, oversized or non-printable parameters, a callback
    without ``state`` or ``code``, or an extra scope that is not allowed.
    """

    code = 400
    error_code = "invalid_request"
    title = "Invalid sign-in request"
    description = "The sign-in request was malformed. Please start again."


class UnknownStateError(GoogleFlowError):
    """400: the callback's ``state`` names no pending sign-in of this browser session.

    The state is unknown, belongs to another session, was already used (a
    replayed callback) or has expired. Nothing was sent to the provider.
    """

    code = 400
    error_code = "unknown_state"
    title = "Sign-in expired"
    description = (
        "This sign-in link is no longer valid: it has expired or was already used. "
        "Please sign in again."
    )


class SignInExpiredError(GoogleFlowError):
    """400: the provider rejected the authorization code (``invalid_grant``).

    The code expired or was already redeemed; the user only has to start again.
    """

    code = 400
    error_code = "sign_in_expired"
    title = "Sign-in expired"
    description = "The sign-in took too long or was already completed. Please sign in again."


class AuthorizationDenied(GoogleFlowError):
    """403: the user declined on the consent screen (``error=access_denied``)."""

    code = 403
    error_code = "access_denied"
    title = "Sign-in cancelled"
    description = "You cancelled signing in with Google. Nothing was shared with this site."


class AuthorizationFailed(GoogleFlowError):
    """400: the provider answered the authorization request with another ``error=``.

    :ivar error: the OAuth error code (``invalid_scope``, ``server_error``, ...).
    """

    code = 400
    error_code = "authorization_failed"
    title = "Sign-in failed"

    def __init__(self, error: str = "server_error", description: str | None = None) -> None:
        self.error = error
        super().__init__(description or f"Google could not complete the sign-in ({error}).")


class IssuerMismatchError(GoogleFlowError):
    """400: the callback's ``iss`` parameter (RFC 9207) is not the configured issuer.

    A sign of a mix-up attack; the code is never sent to any token endpoint.
    """

    code = 400
    error_code = "issuer_mismatch"
    title = "Sign-in failed"
    description = "The sign-in response came from an unexpected issuer and was refused."


class InvalidIDTokenError(GoogleFlowError):
    """401: the ID token failed verification (signature, ``iss``, ``aud``, ``exp``, ``nonce``).

    :ivar reason: the verification step that failed (see
        :class:`flask_google_flow.exceptions.IDTokenError`).
    """

    code = 401
    error_code = "invalid_id_token"
    title = "Sign-in failed"
    description = "Your identity could not be verified. Please sign in again."

    def __init__(self, description: str | None = None, reason: str = "invalid") -> None:
        self.reason = reason
        super().__init__(description)


class HostedDomainNotAllowed(GoogleFlowError):
    """403: the account is not in the Google Workspace domain this app is restricted to."""

    code = 403
    error_code = "hosted_domain"
    title = "Account not allowed"
    description = "This site only accepts accounts of its organisation. Please sign in with one."


class InsufficientScopesError(GoogleFlowError):
    """403: the user did not grant a permission the page needs.

    :ivar missing: the scopes still missing.
    """

    code = 403
    error_code = "insufficient_scopes"
    title = "Permission needed"
    description = "This page needs a permission you did not grant to this site."

    def __init__(self, missing: Any = (), description: str | None = None) -> None:
        self.missing = tuple(missing)
        super().__init__(description)


class CrossOriginRequest(GoogleFlowError):
    """403: a ``POST`` to ``/revoke`` or ``/logout`` did not come from this site.

    Its ``Origin`` (or, without one, its ``Referer``) names another origin, or
    the request carries neither header.
    """

    code = 403
    error_code = "cross_origin"
    title = "Request refused"
    description = (
        "This request did not come from this site and was refused. "
        "Please use the button on the site itself."
    )


class ProviderUnavailable(GoogleFlowError):
    """502: the provider failed or answered something that breaks the protocol."""

    code = 502
    error_code = "provider_unavailable"
    title = "Google is not answering"
    description = "Google could not complete the sign-in right now. Please try again in a moment."


class ProviderTimeout(ProviderUnavailable):
    """504: the provider did not answer within the configured timeout."""

    code = 504
    error_code = "provider_timeout"
    description = "Google took too long to answer. Please try again in a moment."


class SessionUnavailable(GoogleFlowError):
    """503: the server-side session backend (e.g. Redis) cannot be reached."""

    code = 503
    error_code = "session_unavailable"
    title = "Service temporarily unavailable"
    description = "Sign-in is temporarily unavailable. Please try again in a moment."


class StoreFailed(GoogleFlowError):
    """500: the app's ``store`` callback raised; its exception is the ``__cause__``.

    Nothing was kept: the user can simply sign in again.
    """

    code = 500
    error_code = "store_failed"
    title = "Sign-in could not be saved"
    description = "Your sign-in could not be saved. Please try again."


class ReauthorizationRequired(GoogleFlowError):
    """The user must go through Google (again) before this page can work.

    Raised when the stored credentials no longer work (revoked or expired
    refresh token: they have been cleared), and when a page needs credentials
    nobody has (not signed in, or signed in without stored credentials).
    Unhandled, the response is a
    ``302`` to :attr:`authorize_url`, which comes back to the current page, so the user
    signs in again instead of seeing an error.

    :ivar authorize_url: where the browser is sent.
    """

    code = 401
    error_code = "reauthorization_required"
    title = "Please sign in again"
    description = "Your Google sign-in has expired. Please sign in again."

    def __init__(self, authorize_url: str, description: str | None = None) -> None:
        self.authorize_url = authorize_url
        super().__init__(description)

    def get_response(self, environ: Any = None, scope: Any = None) -> _SansIOResponse:
        """A ``302`` to :attr:`authorize_url` instead of an error page."""
        from flask import redirect

        return no_store(redirect(self.authorize_url, code=302))


def http_error_for(exc: BaseException) -> GoogleFlowError:
    """The HTTP error for a flow-layer provider error (see :mod:`flask_google_flow.exceptions`).

    ``invalid_grant`` → :class:`SignInExpiredError` (400); a timeout →
    :class:`ProviderTimeout` (504); anything else the provider did wrong →
    :class:`ProviderUnavailable` (502). The provider's failure is logged as a
    warning naming the endpoint and the kind of failure, never a token.

    :param exc: a :class:`~flask_google_flow.exceptions.ProviderError`.
    """
    from ..exceptions import InvalidGrantError, OAuthErrorResponse, ProviderTimeoutError

    endpoint = getattr(exc, "endpoint", "provider")
    if isinstance(exc, InvalidGrantError):
        return SignInExpiredError()
    if isinstance(exc, ProviderTimeoutError):
        _logger.warning("flask-google-flow: the %s endpoint timed out", endpoint)
        return ProviderTimeout()
    if isinstance(exc, OAuthErrorResponse):
        _logger.warning("flask-google-flow: the %s endpoint refused: %s", endpoint, exc.error)
    else:
        _logger.warning(
            "flask-google-flow: the %s endpoint failed (%s, status %s)",
            endpoint,
            type(exc).__name__,
            getattr(exc, "status", None),
        )
    return ProviderUnavailable()


class GISSignInRefused(GoogleFlowError):
    """400: ``POST /gsi`` refused a Google Identity Services sign-in.

    The double-submit ``g_csrf_token`` check failed, the request came from
    another origin, a field was missing, repeated or too long, the ID token
    failed verification, or its nonce names no page this browser was shown
    (unknown, expired or already used). Nothing was stored.

    :ivar reason: which check failed (``csrf``, ``origin``, ``field``,
        ``nonce``, ``hosted_domain``, or an ID-token reason such as
        ``signature``, ``audience``, ``issuer``, ``expired``).
    """

    code = 400
    error_code = "gis_refused"
    title = "Sign-in refused"
    description = "This sign-in could not be accepted. Please reload the page and try again."

    def __init__(self, reason: str = "invalid", description: str | None = None) -> None:
        self.reason = reason
        super().__init__(description)
