"""Sign in with Google for Flask, and a google_auth_oauthlib-compatible flow layer.

The Flask extension is :class:`GoogleFlow`; the framework-neutral flow layer is
:mod:`flask_google_flow.flow`; the fake Google for tests is
:mod:`flask_google_flow.testing` (imported only on demand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .current import (
        current_google_credentials,
        current_google_user,
    )
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

_EXPORTS = {
    "current_google_credentials": ".current",
    "current_google_user": ".current",
    "AuthorizationDenied": ".errors",
    "AuthorizationFailed": ".errors",
    "CrossOriginRequest": ".errors",
    "GoogleFlowError": ".errors",
    "HostedDomainNotAllowed": ".errors",
    "InsufficientScopesError": ".errors",
    "InvalidIDTokenError": ".errors",
    "InvalidRequestError": ".errors",
    "IssuerMismatchError": ".errors",
    "ProviderTimeout": ".errors",
    "ProviderUnavailable": ".errors",
    "ReauthorizationRequired": ".errors",
    "SessionUnavailable": ".errors",
    "SignInExpiredError": ".errors",
    "StoreFailed": ".errors",
    "UnknownStateError": ".errors",
    "GoogleFlow": ".extension",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

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
