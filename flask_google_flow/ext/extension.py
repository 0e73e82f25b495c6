"""`GoogleFlow`, the Flask extension: options, ``init_app`` and per-app state.

One :class:`GoogleFlow` object can serve several apps: everything that belongs
to one app (its settings, client configuration, provider client, pending-flow
store) lives in ``app.extensions["google_flow"]``, and the callbacks registered
on the object (``store``, ``load``, ``delete``) are shared by all its apps.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload
from urllib.parse import urlsplit

from flask import Blueprint, Flask, has_request_context
from flask.sessions import SessionInterface
from flask_session import Session

from ..core.client_secrets import load_client_secrets_file, validate_client_config
from ..core.provider import ProviderClient
from . import current, decorators, gsi, gsi_markup, refresh, views
from .checks import check_configuration
from .config import Settings, check_option_names, resolve_settings
from .endpoints import base_metadata, check_configured_urls
from .instance_files import default_pending_dir, default_session_dir
from .pending import PendingFlows, PendingFlowStore, store_for_session_interface
from .resilience import (
    DeferredPendingFlowStore,
    GuardedSessionInterface,
    guard_session_backend,
    is_backend_outage,
    unwrap_session_interface,
)
from .session_clients import CheckedFileSystemCache
from .state import EXTENSION_KEY, AppState, RegisteredRedirectURI, app_state
from .storage import (
    CallbackCredentialStore,
    CredentialStore,
    DeleteCallback,
    LoadCallback,
    SessionCredentialStore,
    StoreCallback,
    token_cipher,
)

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials
    from markupsafe import Markup

    from .refresh import GoogleAuthorizedSession

logger = logging.getLogger("flask_google_flow")

F = TypeVar("F", bound=Callable[..., Any])
#: A view function.
ViewT = TypeVar("ViewT", bound=Callable[..., Any])


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
        scopes: Iterable[str] | str | None = None,
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
        ``id_info["sub"]``.

        Return value: at sign-in, to answer the callback yourself, return a
        response object (:class:`flask.Response` or any
        :class:`werkzeug.wrappers.Response`, e.g. from :func:`flask.redirect`
        or :func:`flask.make_response`); it is sent instead of the redirect to
        ``next``. Anything else — ``None``, ``False``, ``0``, a string, a
        tuple — is ignored and the browser goes to ``next``. If it raises,
        nothing is kept, the user is not signed in, and
        :class:`~flask_google_flow.ext.errors.StoreFailed` is raised.
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
        :raises RuntimeError: called outside a request (it needs the request's
            session to know whose credentials to use).
        """
        if not has_request_context():
            raise RuntimeError(
                "google_flow.authorized_session() needs a request: it uses the signed-in "
                "user of the current request's session. Call it in a view (in tests, "
                "inside a test client request). Outside a request, rebuild the user's "
                "Credentials from your store and use google.auth.transport.requests."
                "AuthorizedSession(credentials)."
            )
        return refresh.authorized_session()

    @overload
    def required(self, scopes: ViewT) -> ViewT: ...

    @overload
    def required(self, scopes: Iterable[str] | str | None = None) -> Callable[[ViewT], ViewT]: ...

    def required(
        self, scopes: Iterable[str] | str | Callable[..., Any] | None = None
    ) -> Callable[..., Any]:
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
        return cast(
            "Callable[[ViewT], ViewT]", decorators.required(self._required_scopes.update, scopes)
        )

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
        session_store = SessionCredentialStore(
            state.rebuild_credentials, cipher=token_cipher(state.settings.encryption_key)
        )
        if self._store_callback is None:
            return session_store
        return CallbackCredentialStore(
            self._store_callback,
            self._load_callback,
            self._delete_callback,
            session_copy=session_store,
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
        :raises flask_google_flow.exceptions.InsecureTransportError: an endpoint
            or redirect URI the app configures (a ``GOOGLE_FLOW_*`` setting, the
            client secrets' ``auth_uri``, ``token_uri`` or ``redirect_uris``) is
            plain http on a non-loopback host; the message names the setting.
            See :mod:`flask_google_flow.ext.endpoints` for which endpoint wins.
        :raises ValueError: a setting would make every sign-in fail; the
            message names it (see :mod:`flask_google_flow.ext.checks`).
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "GoogleFlow is already registered on this app; call init_app once per app."
            )
        settings = resolve_settings(app.config, self._options)
        client_type, client = self._load_client(app, settings)
        check_configured_urls(settings, client)
        check_configuration(app.config, settings, client)
        build = _ensure_server_side_session(app, settings)
        guard = guard_session_backend(app, build=build)
        token_cipher(settings.encryption_key)  # a bad key fails here, at init_app

        provider = ProviderClient(
            base_metadata(settings, client),
            discovery_url=settings.discovery_url,
            timeout=settings.http_timeout,
            overrides=settings.endpoint_overrides() or None,
            clock=self._clock,
            verify=settings.ca_bundle,
        )
        pending = PendingFlows(
            _pending_store(guard, app, settings),
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


def _pending_dir(app: Flask, settings: Settings) -> str:
    """The folder of the filesystem pending-flow store.

    ``GOOGLE_FLOW_PENDING_DIR``, else beside ``GOOGLE_FLOW_SESSION_DIR``, else
    ``<instance>/google_flow_pending`` (see :func:`~.instance_files.default_pending_dir`).
    """
    if settings.pending_dir:
        return settings.pending_dir
    if settings.session_dir:
        return os.path.normpath(settings.session_dir) + "-pending"
    return default_pending_dir(app)


def _pending_store(
    guard: GuardedSessionInterface, app: Flask, settings: Settings
) -> PendingFlowStore:
    """The pending-flow store for the real (unwrapped) session interface.

    Chosen from the Flask-Session interface itself, never from the guard
    around it; when the backend could not be set up yet (it is down at
    start-up), once it is.
    """
    choose = functools.partial(
        store_for_session_interface, directory=_pending_dir(app, settings), app=app
    )
    if guard.wrapped is None:
        return DeferredPendingFlowStore(guard, choose)
    return choose(guard.wrapped)


def _ensure_server_side_session(
    app: Flask, settings: Settings
) -> Callable[[], SessionInterface] | None:
    """Make sure *app* has a server-side session; never replace the app's own silently.

    The rule, in order:

    1. A Flask-Session interface already on the app is used as it is.
    2. ``SESSION_TYPE = "null"`` is refused: it means a cookie session.
    3. An interface the app set itself (``app.session_interface = ...``) is
       kept, with a warning, unless it is cookie-based (Flask's
       ``SecureCookieSessionInterface`` or a subclass): that is refused, since
       the cookie would carry the tokens.
    4. ``SESSION_TYPE`` set: Flask-Session is set up with it. If its backend
       is down right now (the SQLAlchemy backend creates its table here), the
       app starts anyway and the set-up is retried by the session guard.
    5. Otherwise the embedded filesystem session store is installed.

    :returns: ``None`` when the session interface is in place, else the
        function that builds it once the backend is back.
    :raises RuntimeError: a cookie-based session was configured.
    """
    from flask.sessions import SecureCookieSessionInterface
    from flask_session.base import ServerSideSessionInterface

    interface = unwrap_session_interface(app.session_interface)
    if isinstance(interface, ServerSideSessionInterface):
        return None
    session_type = app.config.get("SESSION_TYPE")
    if isinstance(session_type, str) and session_type.lower() == "null":
        raise RuntimeError(
            "SESSION_TYPE = 'null' keeps the session in a cookie, and flask-google-flow "
            "keeps sign-in secrets and tokens in the session: set SESSION_TYPE to a "
            "server-side backend ('redis', 'sqlalchemy', 'memcached', 'cachelib', ...) "
            "or remove it to use the embedded filesystem store."
        )
    if interface is not Flask.session_interface:  # not Flask's untouched default
        if isinstance(interface, SecureCookieSessionInterface):
            raise RuntimeError(
                f"app.session_interface is a cookie-based session ({type(interface).__name__}); "
                "flask-google-flow keeps sign-in secrets and tokens in the session and "
                "refuses to put them in a cookie. Use Flask-Session (set SESSION_TYPE) or "
                "leave app.session_interface unset for the embedded filesystem store."
            )
        logger.warning(
            "flask-google-flow: keeping the app's own session interface %s; it must keep "
            "the session server-side. Pending sign-ins are kept inside the session (not "
            "race-safe) unless its backend is one flask-google-flow knows.",
            type(interface).__name__,
        )
        return None
    if session_type is not None:
        return _set_up_flask_session(app)
    directory = settings.session_dir or default_session_dir(app)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    app.config["SESSION_TYPE"] = "cachelib"
    app.config["SESSION_CACHELIB"] = CheckedFileSystemCache(
        directory, threshold=100_000, mode=0o600
    )
    Session(app)
    logger.info(
        "flask-google-flow: no Flask-Session backend configured; using the embedded "
        "filesystem session store in %s (set SESSION_TYPE, e.g. 'redis', for several workers)",
        directory,
    )
    return None


def _set_up_flask_session(app: Flask) -> Callable[[], SessionInterface] | None:
    """``Session(app)``; if its backend is down now, the function that retries it."""
    try:
        Session(app)
    except Exception as exc:
        if not is_backend_outage(exc):
            raise
        logger.warning(
            "flask-google-flow: the session backend (SESSION_TYPE=%r) cannot be set up now "
            "(%s); the app starts and answers 503 where the session is used until it is back",
            app.config.get("SESSION_TYPE"),
            type(exc).__name__,
        )
        return functools.partial(_build_flask_session, app)
    return None


def _build_flask_session(app: Flask) -> SessionInterface:
    """Build Flask-Session's interface for *app* again, leaving the guard in place.

    ``Session(app)`` assigns ``app.session_interface``; the guard that called
    this is put back at once and wraps the interface returned.
    """
    _forget_failed_sqlalchemy_table(app)
    guard = app.session_interface
    try:
        Session(app)
        return app.session_interface
    finally:
        app.session_interface = guard


def _forget_failed_sqlalchemy_table(app: Flask) -> None:
    """Drop the session table a failed SQLAlchemy set-up declared, so it can be declared again.

    Flask-Session's ``sqlalchemy`` backend declares its table on the
    Flask-SQLAlchemy metadata before it creates it in the database; when the
    creation failed, the declaration stays and a second set-up would refuse
    to declare it again.
    """
    if str(app.config.get("SESSION_TYPE", "")).lower() != "sqlalchemy":
        return
    db = app.config.get("SESSION_SQLALCHEMY")
    metadatas = getattr(db, "metadatas", None)
    if not isinstance(metadatas, Mapping):
        return
    metadata = metadatas.get(app.config.get("SESSION_SQLALCHEMY_BIND_KEY"))
    name = app.config.get("SESSION_SQLALCHEMY_TABLE", "sessions")
    schema = app.config.get("SESSION_SQLALCHEMY_SCHEMA")
    table = metadata.tables.get(f"{schema}.{name}" if schema else name) if metadata else None
    if table is not None:
        metadata.remove(table)
