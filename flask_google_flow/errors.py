"""Public path of the HTTP exception hierarchy, :mod:`flask_google_flow.ext.errors`.

``from flask_google_flow.errors import GoogleFlowError`` keeps working; every
class is also importable from :mod:`flask_google_flow` itself.
"""

from .ext.errors import (
    AuthorizationDenied,
    AuthorizationFailed,
    CrossOriginRequest,
    GISSignInRefused,
    GoogleFlowError,
    HostedDomainNotAllowed,
    HostMismatchError,
    InsufficientScopesError,
    InvalidIDTokenError,
    InvalidRequestError,
    IssuerMismatchError,
    ProviderTimeout,
    ProviderUnavailable,
    ReauthorizationRequired,
    SessionUnavailable,
    SignInExpiredError,
    StoreFailed,
    UnknownStateError,
    http_error_for,
    no_store,
)

__all__ = [
    "AuthorizationDenied",
    "AuthorizationFailed",
    "CrossOriginRequest",
    "GISSignInRefused",
    "GoogleFlowError",
    "HostMismatchError",
    "HostedDomainNotAllowed",
    "InsufficientScopesError",
    "InvalidIDTokenError",
    "InvalidRequestError",
    "IssuerMismatchError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ReauthorizationRequired",
    "SessionUnavailable",
    "SignInExpiredError",
    "StoreFailed",
    "UnknownStateError",
    "http_error_for",
    "no_store",
]
