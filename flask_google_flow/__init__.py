"""Sign in with Google for Flask, and a google_auth_oauthlib-compatible flow layer.

The Flask extension is :class:`GoogleFlow`; the framework-neutral flow layer is
:mod:`flask_google_flow.flow`; the fake Google for tests is
:mod:`flask_google_flow.testing` (imported only on demand).
"""

from __future__ import annotations

from .current import current_google_credentials, current_google_user
from .errors import (
    AuthorizationDenied,
    AuthorizationFailed,
    CrossOriginRequest,
    GoogleFlowError,
    HostedDomainNotAllowed,
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
)
from .extension import GoogleFlow

__version__ = "0.1.0"

__all__ = [
    "AuthorizationDenied",
    "AuthorizationFailed",
    "CrossOriginRequest",
    "GoogleFlow",
    "GoogleFlowError",
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
    "__version__",
    "current_google_credentials",
    "current_google_user",
]
