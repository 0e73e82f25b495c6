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
    from .ext.current import (
        current_google_credentials,
        current_google_user,
    )
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
    )
    from .ext.extension import GoogleFlow

_EXPORTS = {
    "current_google_credentials": ".ext.current",
    "current_google_user": ".ext.current",
    "AuthorizationDenied": ".ext.errors",
    "AuthorizationFailed": ".ext.errors",
    "CrossOriginRequest": ".ext.errors",
    "GISSignInRefused": ".ext.errors",
    "GoogleFlowError": ".ext.errors",
    "HostedDomainNotAllowed": ".ext.errors",
    "HostMismatchError": ".ext.errors",
    "InsufficientScopesError": ".ext.errors",
    "InvalidIDTokenError": ".ext.errors",
    "InvalidRequestError": ".ext.errors",
    "IssuerMismatchError": ".ext.errors",
    "ProviderTimeout": ".ext.errors",
    "ProviderUnavailable": ".ext.errors",
    "ReauthorizationRequired": ".ext.errors",
    "SessionUnavailable": ".ext.errors",
    "SignInExpiredError": ".ext.errors",
    "StoreFailed": ".ext.errors",
    "UnknownStateError": ".ext.errors",
    "GoogleFlow": ".ext.extension",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "AuthorizationDenied",
    "AuthorizationFailed",
    "CrossOriginRequest",
    "GISSignInRefused",
    "GoogleFlow",
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
    "__version__",
    "current_google_credentials",
    "current_google_user",
]
