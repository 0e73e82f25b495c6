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
from collections.abc import Iterable
from typing import Any, TypeVar

from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as _SansIOResponse

_logger = logging.getLogger("flask_google_flow")

# Any werkzeug/Flask response.
_ResponseT = TypeVar("_ResponseT", bound=_SansIOResponse)
# A WSGI environ (or ASGI scope) as werkzeug passes it.
_Environ = dict[str, Any]


def no_store(response: _ResponseT) -> _ResponseT:
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
    #: Why, for the operator's log (never shown, never a secret); see :doc:`/errors`.
    detail: str | None = None
    #: Where "Sign in again" on the default page goes (``/authorize`` with the
    #: sign-in's original ``next``), or ``None`` for no such link. The callback
    #: sets it; the page always has a link to the site's home page as well.
    sign_in_url: str | None = None
    #: The validated ``next`` of the sign-in that failed, when it was known.
    next_url: str | None = None
    #: Whether "Sign in again" makes sense after this error.
    offer_sign_in: bool = True

    def __init__(
        self, description: str | None = None, response: _SansIOResponse | None = None
    ) -> None:
        super().__init__(description, response)

    def get_headers(
        self,
        environ: _Environ | None = None,
        scope: _Environ | None = None,
    ) -> list[tuple[str, str]]:
        """Headers of the error page: HTML, never cached, never leaking a referrer."""
        return [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
        ]

    def get_body(self, environ: _Environ | None = None, scope: _Environ | None = None) -> str:
        """A small self-contained HTML page with a way back; everything shown is escaped.

        It links to the site's home page (the root of the app's mount point)
        and, when :attr:`sign_in_url` is set, offers "Sign in again".
        """
        home = f"{(environ or {}).get('SCRIPT_NAME', '').rstrip('/')}/"
        again = ""
        if self.sign_in_url:
            again = (
                f"<a href='{escape(self.sign_in_url)}' id=sign-in-again "
                "style='background:#1a73e8;color:#fff;padding:.5em 1em;border-radius:4px;"
                "text-decoration:none'>Sign in again</a> "
            )
        return (
            "<!doctype html>\n"
            "<html lang=en><head><meta charset=utf-8>"
            f"<title>{self.code} {escape(self.title)}</title>"
            "<meta name=viewport content='width=device-width, initial-scale=1'></head>\n"
            "<body style='font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;"
            "padding:0 1em;line-height:1.5'>\n"
            f"<h1 id=error-title>{escape(self.title)}</h1>\n"
            f"<p id=error-message>{escape(self.description or '')}</p>\n"
            f"<p style='display:flex;flex-wrap:wrap;gap:1em;align-items:center'>{again}"
            f"<a href='{escape(home)}' id=home>Back to the home page</a></p>\n"
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

    #: :attr:`reason` → what the log line says.
    REASONS = {
        "missing": "the callback has no usable state parameter",
        "no_session": (
            "this browser session has no sign-in in progress: the session cookie did not "
            "come back (another host name, a blocked cookie) or the session expired"
        ),
        "expired": "the sign-in was started too long ago (GOOGLE_FLOW_PENDING_TTL)",
        "unknown": (
            "the state names no sign-in of this browser session: already used, "
            "started in another session, or made up"
        ),
    }

    def __init__(self, description: str | None = None, reason: str = "unknown") -> None:
        #: ``missing``, ``no_session``, ``expired`` or ``unknown`` (see :attr:`REASONS`).
        self.reason = reason
        self.detail = self.REASONS.get(reason, reason)
        super().__init__(description)


class HostMismatchError(UnknownStateError):
    """400: the sign-in started on one host name and came back to another.

    The commonest setup mistake: the site was opened at ``http://localhost:5000``
    while the redirect URI is ``http://127.0.0.1:5000/oauth2callback`` (or the
    reverse). Browsers keep cookies per host name, so the callback arrives
    without the session cookie and the sign-in cannot be matched. A subclass of
    :class:`UnknownStateError`, so handlers of that class still catch it.

    :ivar started_on: the host the sign-in started on (as the browser named it).
    :ivar came_back_to: the host of the callback.
    """

    error_code = "host_mismatch"
    title = "Sign-in started on another address"
    description = (
        "This sign-in was started on another address of this site, so it cannot be "
        "finished here. Open the site at the address of its sign-in page and sign in again."
    )

    def __init__(
        self, started_on: str = "", came_back_to: str = "", *, show_hosts: bool = True
    ) -> None:
        self.started_on = started_on
        self.came_back_to = came_back_to
        description: str | None
        if not (started_on and came_back_to):
            description = None
        elif show_hosts:
            description = (
                f"You started signing in at {started_on}, but Google sent you back to "
                f"{came_back_to}. Browsers keep a separate session for each address, so "
                f"this sign-in cannot be finished here. Open the site at {came_back_to} "
                "and sign in again."
            )
        else:
            description = (
                f"Google sent you back to {came_back_to}, but the sign-in was started on "
                "another address of this site. Open the site at "
                f"{came_back_to} and sign in again."
            )
        super().__init__(description, reason="host_mismatch")
        self.detail = (
            f"the sign-in started on host {started_on!r} but the callback came to "
            f"{came_back_to!r}: the browser keeps cookies per host name, so the session "
            "cookie did not come back; open the site at the redirect URI's host, or "
            "register a redirect URI for the other host"
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
        self.detail = f"the provider answered error={error!r}"


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
        self.detail = f"the ID token failed the {reason!r} check"
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

    offer_sign_in = False
    code = 403
    error_code = "insufficient_scopes"
    title = "Permission needed"
    description = "This page needs a permission you did not grant to this site."

    def __init__(self, missing: Iterable[str] = (), description: str | None = None) -> None:
        self.missing = tuple(missing)
        super().__init__(description)


class CrossOriginRequest(GoogleFlowError):
    """403: a ``POST`` to ``/revoke`` or ``/logout`` did not come from this site.

    Its ``Origin`` (or, without one, its ``Referer``) names another origin, or
    the request carries neither header.
    """

    offer_sign_in = False
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

    offer_sign_in = False
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
    ``302`` to ``authorize_url``, which comes back to the current page, so the user
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

    def get_response(
        self, environ: _Environ | None = None, scope: _Environ | None = None
    ) -> _SansIOResponse:
        """A ``302`` to ``authorize_url`` instead of an error page."""
        from flask import redirect

        return no_store(redirect(self.authorize_url, code=302))


def http_error_for(exc: BaseException, *, log: bool = True) -> GoogleFlowError:
    """The HTTP error for a flow-layer provider error (see :mod:`flask_google_flow.exceptions`).

    ``invalid_grant`` → :class:`SignInExpiredError` (400); a timeout →
    :class:`ProviderTimeout` (504); anything else the provider did wrong →
    :class:`ProviderUnavailable` (502). The error's :attr:`~GoogleFlowError.detail`
    names the endpoint and the kind of failure (``"SSLError"``,
    ``"ConnectionError: NameResolutionError"``, the OAuth error code), never a token.

    :param exc: a :class:`~flask_google_flow.exceptions.ProviderError`.
    :param log: also log the detail as a warning (the callback passes ``False``:
        it logs one line per refused sign-in itself).
    """
    from ..exceptions import InvalidGrantError, OAuthErrorResponse, ProviderTimeoutError

    endpoint = getattr(exc, "endpoint", "provider")
    error: GoogleFlowError
    if isinstance(exc, InvalidGrantError):
        error = SignInExpiredError()
        error.detail = f"the {endpoint} endpoint refused the code: invalid_grant"
        return error
    if isinstance(exc, ProviderTimeoutError):
        error = ProviderTimeout()
        error.detail = f"the {endpoint} endpoint timed out"
    elif isinstance(exc, OAuthErrorResponse):
        error = ProviderUnavailable()
        error.detail = f"the {endpoint} endpoint refused: {exc.error!r}"
    else:
        error = ProviderUnavailable()
        error.detail = str(exc)  # built by the flow layer: endpoint, kind, status only
    if log:
        _logger.warning("flask-google-flow: %s", error.detail)
    return error


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
