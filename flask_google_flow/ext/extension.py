"""`GoogleFlow`, the Flask extension: options, ``init_app`` and per-app state.

One :class:`GoogleFlow` object can serve several apps: everything that belongs
to one app (its settings, client configuration, provider client, pending-flow
store) lives in ``app.extensions["google_flow"]``, and the callbacks registered
on the object (``store``, ``load``, ``delete``) are shared by all its apps.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask

from ..core.client_secrets import load_client_secrets_file, validate_client_config
from ..core.provider import GOOGLE, ClientSecretBasic, ProviderClient
from . import current, decorators, gsi, gsi_markup, refresh, views
from .config import Settings, check_option_names, resolve_settings
from .pending import PendingFlows, store_for_session_interface
from .resilience import guard_session_backend
from .state import EXTENSION_KEY, AppState, RegisteredRedirectURI, app_state
from .storage import (
    CallbackCredentialStore,
    CredentialStore,
    DeleteCallback,
    LoadCallback,
    SessionCredentialStore,
    StoreCallback,
)

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials
    from markupsafe import Markup

    from .refresh import GoogleAuthorizedSession

logger = logging.getLogger("flask_google_flow")

F = TypeVar("F", bound=Callable[..., Any])


class GoogleFlow:
    """Sign in with Google for a Flask app.

    ::

        google_flow = GoogleFlow()

        def create_app():
            app = Flask(__name__)
            app.config.update(
                SECRET_KEY="...",
                GOOGLE_CLIENT_SECRETS_FILE="client_secret.json",
                GOOGLE_SCOPES=["openid", "email", "profile"],
            )
            google_flow.init_app(app)
            return app

        @google_flow.store
        def save(credentials, id_info):
            ...

    :param app: a Flask app to initialise now (or call :meth:`init_app` later).
    :param client_secrets_file: ``GOOGLE_CLIENT_SECRETS_FILE``.
    :param client_config: ``GOOGLE_CLIENT_CONFIG``.
    :param scopes: ``GOOGLE_SCOPES``.
    :param store: the ``store`` callback (see :meth:`store`).
    :param url_prefix: ``GOOGLE_FLOW_URL_PREFIX``.
    :param load: the ``load`` callback (see :meth:`load`).
    :param delete: the ``delete`` callback (see :meth:`delete`).
    :param clock: a ``time.time``-like function; tests inject one to move time.
    :param more_options: any other option of :mod:`flask_google_flow.ext.config`
        by its lower-case name (``hosted_domain=...``, ``pending_ttl=...``).
        Constructor arguments win over ``app.config``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        client_secrets_file: str | os.PathLike[str] | None = None,
        client_config: Mapping[str, Any] | str | None = None,
        scopes: Any = None,
        store: StoreCallback | None = None,
        url_prefix: str | None = None,
        load: LoadCallback | None = None,
        delete: DeleteCallback | None = None,
        clock: Callable[[], float] | None = None,
        **more_options: Any,
    ) -> None:
        check_option_names(more_options)
        self._options: dict[str, Any] = {
            "client_secrets_file": os.fspath(client_secrets_file) if client_secrets_file else None,
            "client_config": client_config,
            "scopes": scopes,
            "url_prefix": url_prefix,
            **more_options,
        }
        self._store_callback = store
        self._load_callback = load
        self._delete_callback = delete
        self._clock = clock or time.time
        self._required_scopes: set[str] = set()
        if app is not None:
            self.init_app(app)

    # -- callbacks ---------------------------------------------------------

    def store(self, callback: F) -> F:
        """Register the ``store`` callback (usable as a decorator).

        Called as ``store(credentials, id_info)`` after every successful sign-in
        and after every token refresh (then *id_info* is the claims kept at
        sign-in, with ``sub``; the return value is ignored), with the
        :class:`google.oauth2.credentials.Credentials` and the verified ID-token
        claims (``{}`` when ``openid`` was not requested). After a sign-in
        through ``POST /gsi`` (Google's button or One Tap) *credentials* is
        ``None``: that path brings an ID token and no OAuth tokens. Partial consent:
        ``credentials.scopes`` are the scopes requested and
        ``credentials.granted_scopes`` those the user actually granted. Key what you keep by
        ``id_info["sub"]``. It may return a response to send instead of the
        redirect to ``next``. If it raises, nothing is kept, the user is not
        signed in, and :class:`~flask_google_flow.ext.errors.StoreFailed` is raised.
        """
        self._store_callback = callback
        return callback

    def load(self, callback: F) -> F:
        """Register the ``load`` callback: ``load(sub) -> Credentials | None``.

        *sub* is the Google account id kept in the session at sign-in
        (``None`` when ``openid`` was not requested), so credentials can live
        in your database keyed by user. Return the credentials ``store``
        received (or rebuilt ones with ``client_id``, ``client_secret``,
        ``token_uri`` and ``refresh_token``), or ``None``.

        Without ``load``, credentials are *also* kept in the server-side
        session after every ``store`` call and read from there, so
        :attr:`credentials` and :meth:`authorized_session` work either way.
        """
        self._load_callback = callback
        return callback

    def delete(self, callback: F) -> F:
        """Register the ``delete`` callback: ``delete(sub) -> None``.

        Called by ``POST /revoke`` and when a refresh finds the grant revoked
        (``invalid_grant``). ``POST /logout`` does not call it: logging out of
        this browser keeps your stored (offline) credentials.
        """
        self._delete_callback = callback
        return callback

    # -- the signed-in user of the current request ---------------------------

    @property
    def credentials(self) -> Credentials | None:
        """The signed-in user's :class:`~google.oauth2.credentials.Credentials`, or ``None``.

        Loaded from the store (``load(sub)``, or the session) once per request.
        They may be expired: use :meth:`authorized_session` to call Google APIs.
        """

        return current.current_credentials()

    @property
    def user(self) -> dict[str, Any] | None:
        """The signed-in user's verified ID-token claims (``sub``, ``email``...), or ``None``."""

        return current.current_user_claims()

    @property
    def is_authorized(self) -> bool:
        """Whether a user is signed in *and* has stored credentials."""

        return current.current_credentials() is not None

    @property
    def granted_scopes(self) -> tuple[str, ...]:
        """Scopes the user granted (Google reports ``email``/``profile`` as URLs)."""

        return current.granted_scopes()

    @property
    def requested_scopes(self) -> tuple[str, ...]:
        """Scopes requested at the user's latest consent (partial consent: compare)."""

        return current.requested_scopes()

    def authorized_session(self) -> GoogleAuthorizedSession:
        """A :class:`requests.Session` (google-auth ``AuthorizedSession``) for the user.

        Uses the provider's connection pool and ``GOOGLE_FLOW_API_TIMEOUT``;
        refreshes an expired token itself and hands the new token to the store
        before the call returns. See :mod:`flask_google_flow.ext.refresh`.

        :raises ReauthorizationRequired: no credentials, or the grant was
            revoked (the response is a ``302`` through ``/authorize``).
        """
        return refresh.authorized_session()

    def required(self, scopes: Any = None) -> Any:
        """View decorator: the user must be signed in and have granted *scopes*.

        ::

            @app.route("/drive")
            @google_flow.required(scopes=["https://www.googleapis.com/auth/drive.readonly"])
            def drive():
                files = google_flow.authorized_session().get(DRIVE_FILES_URL).json()
                ...

        Without credentials the browser goes through ``/authorize`` and comes
        back; with some scopes missing it is asked for only those
        (incremental authorization); if the user declines them the view
        raises :class:`~flask_google_flow.ext.errors.InsufficientScopesError`
        (403). *scopes* named here are allowed for ``/authorize?scope=``
        automatically. ``@google_flow.required`` without parentheses works too.
        See :mod:`flask_google_flow.ext.decorators`.
        """
        if callable(scopes):
            return decorators.required(self._required_scopes.update, None)(scopes)
        return decorators.required(self._required_scopes.update, scopes)

    def sign_in_button(self, **options: Any) -> Markup:
        """A "Sign in with Google" button (Google Identity Services) for this page.

        The Jinja global ``google_sign_in_button(**options)`` is the same; see
        :func:`flask_google_flow.ext.gsi_markup.sign_in_button` for the options.
        The credential is posted to ``POST /gsi``.
        """
        return gsi_markup.sign_in_button(**options)

    def one_tap(self, **options: Any) -> Markup:
        """The One Tap prompt (FedCM where available) for this page.

        The Jinja global ``google_one_tap(**options)`` is the same; see
        :func:`flask_google_flow.ext.gsi_markup.one_tap` for the options.
        """
        return gsi_markup.one_tap(**options)

    @property
    def required_scopes(self) -> frozenset[str]:
        """Scopes named in :meth:`required` decorators so far (allowed in ``/authorize?scope=``)."""
        return frozenset(self._required_scopes)

    def _callbacks(self) -> tuple[Any, ...]:
        """The registered ``store``, ``load`` and ``delete`` callbacks."""
        return (self._store_callback, self._load_callback, self._delete_callback)

    def _credential_store(self, state: AppState) -> CredentialStore:
        if self._store_callback is None:
            return SessionCredentialStore(state.rebuild_credentials)
        return CallbackCredentialStore(
            self._store_callback,
            self._load_callback,
            self._delete_callback,
            session_copy=SessionCredentialStore(state.rebuild_credentials),
        )

    # -- app setup ---------------------------------------------------------

    def init_app(self, app: Flask) -> None:
        """Set the extension up for *app*.

        Reads the options, loads and validates the client secrets, sets up the
        embedded server-side session if the app has not configured
        Flask-Session, and registers the blueprint (unless
        ``GOOGLE_FLOW_REGISTER_BLUEPRINT`` is false).

        :raises RuntimeError: the extension is already registered on *app*.
        :raises flask_google_flow.exceptions.ClientSecretsError: the client
            secrets are missing or malformed.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "GoogleFlow is already registered on this app; call init_app once per app."
            )
        settings = resolve_settings(app.config, self._options)
        client_type, client = self._load_client(app, settings)
        _ensure_server_side_session(app, settings)
        guard_session_backend(app)

        metadata = None if settings.discovery_url else GOOGLE
        provider = ProviderClient(
            metadata,
            discovery_url=settings.discovery_url,
            timeout=settings.http_timeout,
            overrides=settings.endpoint_overrides() or None,
            clock=self._clock,
        )
        pending = PendingFlows(
            store_for_session_interface(app.session_interface),
            ttl=settings.pending_ttl,
            max_per_session=settings.max_pending,
            clock=self._clock,
        )
        state = AppState(
            extension=self,
            settings=settings,
            client_type=client_type,
            client=client,
            provider=provider,
            pending=pending,
            clock=self._clock,
            refresher=refresh.RefreshCoordinator(self._clock),
            client_auth=ClientSecretBasic(client["client_id"], client.get("client_secret")),
            endpoint_prefix=settings.blueprint_name,
            redirect_uris_by_path=_redirect_uris_by_path(client),
        )
        app.extensions[EXTENSION_KEY] = state
        app.add_template_global(gsi_markup.sign_in_button, "google_sign_in_button")
        app.add_template_global(gsi_markup.one_tap, "google_one_tap")
        if settings.register_blueprint:
            app.register_blueprint(
                self.make_blueprint(settings.blueprint_name), url_prefix=settings.url_prefix
            )

    def make_blueprint(self, name: str = "google_flow") -> Blueprint:
        """A new blueprint with the sign-in routes, to mount yourself.

        The routes of :func:`flask_google_flow.ext.views.make_blueprint` plus
        ``POST /gsi`` (:mod:`flask_google_flow.ext.gsi`), registered here
        because that module builds on the views module.

        Use it with ``GOOGLE_FLOW_REGISTER_BLUEPRINT = False`` to nest the routes
        inside your own blueprint; the endpoint names then carry your
        blueprint's name as a prefix (``"account.google_flow.authorize"``).
        """
        blueprint = views.make_blueprint(name)
        blueprint.add_url_rule("/gsi", "gsi", gsi.gsi, methods=["POST"])
        return blueprint

    @staticmethod
    def _load_client(app: Flask, settings: Settings) -> tuple[str, Mapping[str, Any]]:
        if settings.client_config is not None:
            client_type, config = validate_client_config(settings.client_config)
        elif settings.client_secrets_file:
            path = settings.client_secrets_file
            if not os.path.isabs(path) and not os.path.exists(path):
                candidate = os.path.join(app.root_path, path)
                if os.path.exists(candidate):
                    path = candidate
            client_type, config = load_client_secrets_file(path)
        else:
            raise RuntimeError(
                "GoogleFlow needs client secrets: set GOOGLE_CLIENT_SECRETS_FILE "
                "or GOOGLE_CLIENT_CONFIG (or pass client_secrets_file= / client_config=)."
            )
        return client_type, config[client_type]

    # -- per-app state -----------------------------------------------------

    @staticmethod
    def state(app: Flask | None = None) -> AppState:
        """The :class:`~flask_google_flow.ext.state.AppState` of *app* (default: current app)."""
        return app_state(app)


def _redirect_uris_by_path(
    client: Mapping[str, Any],
) -> dict[str, tuple[RegisteredRedirectURI, ...]]:
    by_path: dict[str, list[RegisteredRedirectURI]] = {}
    for uri in client.get("redirect_uris") or []:
        if isinstance(uri, str):
            parts = urlsplit(uri)
            entry = RegisteredRedirectURI(uri, parts.scheme, parts.netloc.lower())
            by_path.setdefault(parts.path, []).append(entry)
    return {path: tuple(entries) for path, entries in by_path.items()}


def _ensure_server_side_session(app: Flask, settings: Settings) -> None:
    """Install the embedded filesystem session unless Flask-Session is configured."""
    from flask_session.base import ServerSideSessionInterface

    if isinstance(app.session_interface, ServerSideSessionInterface):
        return
    if app.config.get("SESSION_TYPE") not in (None, "null"):
        from flask_session import Session

        Session(app)
        return
    from cachelib import FileSystemCache
    from flask_session import Session

    directory = settings.session_dir or os.path.join(app.instance_path, "google_flow_sessions")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    app.config["SESSION_TYPE"] = "cachelib"
    app.config["SESSION_CACHELIB"] = FileSystemCache(directory, threshold=100_000, mode=0o600)
    Session(app)
    logger.info(
        "flask-google-flow: no Flask-Session backend configured; using the embedded "
        "filesystem session store in %s (set SESSION_TYPE, e.g. 'redis', for several workers)",
        directory,
    )
