"""Per-app state of the extension, and how leaf modules reach it.

:class:`AppState` is what :meth:`GoogleFlow.init_app
<flask_google_flow.GoogleFlow.init_app>` keeps in
``app.extensions["google_flow"]``. Views, decorators, refresh and the
current-user accessors look it up with :func:`app_state` at run time (as
Flask-Login does with ``current_app.login_manager``) instead of importing the
extension module, so no module of the Flask layer imports another in a circle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from flask import Flask, current_app

from ..core.provider import ProviderClient, ProviderMetadata
from ..exceptions import ProviderError
from .config import Settings
from .errors import http_error_for
from .pending import PendingFlows
from .storage import CredentialStore, credentials_from_dict

if TYPE_CHECKING:
    from .extension import GoogleFlow
    from .refresh import RefreshCoordinator

__all__ = ["EXTENSION_KEY", "AppState", "RegisteredRedirectURI", "app_state"]

EXTENSION_KEY = "google_flow"
"""Key of the per-app state in ``app.extensions``."""


class RegisteredRedirectURI(NamedTuple):
    """One ``redirect_uris`` entry of the client secrets, parsed once."""

    uri: str
    scheme: str
    netloc: str


@dataclass
class AppState:
    """Everything :class:`GoogleFlow` keeps for one app (``app.extensions["google_flow"]``).

    Shared by all requests of the app; it holds no per-request data.
    """

    extension: GoogleFlow
    settings: Settings
    client_type: str
    client: Mapping[str, Any] = field(repr=False)  # holds the client secret
    provider: ProviderClient
    pending: PendingFlows
    clock: Callable[[], float]
    refresher: RefreshCoordinator
    endpoint_prefix: str = ""
    redirect_uris_by_path: dict[str, tuple[RegisteredRedirectURI, ...]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: The credential store and the callbacks it was built for (see ``credential_store``).
    _store: tuple[tuple[Any, ...], CredentialStore] | None = None
    #: The client configuration handed to each sign-in's ``Flow``, and the metadata it is for.
    _flow_config: tuple[ProviderMetadata, dict[str, Any]] | None = field(default=None, repr=False)
    #: The sessions ``/authorize``'s flows build URLs on, by ``(scopes, redirect URI)``
    #: (see :func:`flask_google_flow.ext.views.authorization_flow`).
    authorization_sessions: dict[tuple[tuple[str, ...], str], Any] = field(
        default_factory=dict, repr=False
    )
    #: Redirect URIs already chosen, by ``(script root, host, scheme)`` of the request.
    redirect_uri_choices: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)

    @property
    def client_id(self) -> str:
        """The OAuth client id."""
        return self.client["client_id"]

    @property
    def metadata(self) -> ProviderMetadata:
        """The provider's endpoints (discovered once, then cached).

        :raises ProviderUnavailable: (502) the discovery document could not be
            fetched or is malformed — tried again on the next request.
        :raises ProviderTimeout: (504) fetching it timed out.
        """
        try:
            return self.provider.metadata
        except ProviderError as exc:
            raise http_error_for(exc) from None

    def endpoint(self, name: str) -> str:
        """The full ``url_for`` name of one of the blueprint's views."""
        return f"{self.endpoint_prefix}.{name}"

    def credential_store(self) -> CredentialStore:
        """The store for this app: the app's callbacks, or the session default.

        Stores hold no per-request state, so one is built per app and reused
        until the extension's callbacks change (they may be registered after
        ``init_app``).
        """
        callbacks = self.extension._callbacks()
        cached = self._store
        if cached is None or cached[0] != callbacks:
            cached = (callbacks, self.extension._credential_store(self))
            self._store = cached
        return cached[1]

    @property
    def flow_client_config(self) -> dict[str, Any]:
        """The client configuration for each sign-in's :class:`~flask_google_flow.flow.Flow`.

        The app's client secrets (``{client_type: {...}}``) with ``auth_uri``
        and ``token_uri`` set to the endpoints in force (:attr:`metadata`,
        after the precedence of :mod:`flask_google_flow.ext.endpoints`), so the
        flow sends the browser and the code where the app is configured to.
        Built once per metadata (discovery may only be known later); do not
        change it.

        :raises ProviderUnavailable: (502) discovery failed (see :attr:`metadata`).
        :raises ProviderTimeout: (504) discovery timed out.
        """
        metadata = self.metadata
        cached = self._flow_config
        if cached is None or cached[0] is not metadata:
            inner = {
                **self.client,
                "auth_uri": metadata.authorization_endpoint,
                "token_uri": metadata.token_endpoint,
            }
            cached = (metadata, {self.client_type: inner})
            self._flow_config = cached
        return cached[1]

    def rebuild_credentials(self, data: Mapping[str, Any]):  # -> Credentials
        """Credentials from stored plain data, with this app's client id and secret."""
        return credentials_from_dict(
            data,
            client_id=self.client_id,
            client_secret=self.client.get("client_secret"),
            token_uri=self.metadata.token_endpoint,
        )


def app_state(app: Flask | None = None) -> AppState:
    """The :class:`AppState` of *app* (default: the current app).

    :raises RuntimeError: ``init_app`` was not called for the app.
    """
    target = app if app is not None else current_app
    try:
        return target.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "GoogleFlow is not initialised on this app; call google_flow.init_app(app)."
        ) from None
