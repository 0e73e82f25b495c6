"""Every option of :class:`~flask_google_flow.GoogleFlow`, its config key and default, in one table.

An option can be given as a constructor argument (``GoogleFlow(scopes=[...])``)
or as a Flask config key (``app.config["GOOGLE_SCOPES"]``). Constructor
arguments win over config keys; config keys win over the defaults below.
Values from config may be strings (e.g. set from environment variables):
numbers, booleans and scope lists are parsed.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.provider import check_endpoint_url

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _scope_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    return tuple(str(s) for s in value)


def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _optional_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _ca_bundle(value: Any) -> str | None:
    path = _optional_str(value)
    if path is None:
        return None
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.isfile(path):
        raise ValueError(f"no such file: {path}")
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError):
        raise ValueError(f"not a PEM file of CA certificates: {path}") from None
    return path


def _key_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if isinstance(value, str):
        return tuple(k for k in value.replace(",", " ").split() if k)
    return tuple(k.decode("ascii") if isinstance(k, bytes) else str(k) for k in value)


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"expected a boolean, got {value!r}")
    return bool(value)


def _client_config(value: Any) -> Mapping[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"GOOGLE_CLIENT_CONFIG is not valid JSON ({exc.msg})") from None
    if not isinstance(value, Mapping):
        raise ValueError("GOOGLE_CLIENT_CONFIG must be a mapping or a JSON object string")
    return value


def _script_url(value: Any) -> str:
    # InsecureTransportError is a ValueError: resolve_settings names the key.
    return check_endpoint_url(str(value), name="GIS script")


def _optional_callable(value: Any) -> Callable[[], str | None] | None:
    if value is None:
        return None
    if not callable(value):
        raise ValueError("expected a function returning the request's CSP nonce")
    return value


@dataclass(frozen=True)
class Option:
    """One option: its constructor name, config key, default, parser and meaning."""

    name: str
    config_key: str
    default: Any
    parse: Callable[[Any], Any]
    doc: str


#: Every option, in the order of the configuration reference.
OPTIONS: tuple[Option, ...] = (
    Option(
        "client_secrets_file",
        "GOOGLE_CLIENT_SECRETS_FILE",
        None,
        _optional_str,
        "Path of the client secrets JSON downloaded from Google Cloud Console. "
        "A relative path is looked up in the working directory, then in the app's root path.",
    ),
    Option(
        "client_config",
        "GOOGLE_CLIENT_CONFIG",
        None,
        _client_config,
        "The client secrets as a mapping (or a JSON string) instead of a file.",
    ),
    Option(
        "scopes",
        "GOOGLE_SCOPES",
        ("openid", "email", "profile"),
        _scope_list,
        "Scopes requested at sign-in: a list or a space-separated string.",
    ),
    Option(
        "extra_scopes",
        "GOOGLE_FLOW_EXTRA_SCOPES",
        (),
        _scope_list,
        "Allow-list of further scopes that ``/authorize?scope=...`` and the "
        "``required`` decorator may ask for later (incremental authorization).",
    ),
    Option(
        "url_prefix",
        "GOOGLE_FLOW_URL_PREFIX",
        None,
        _optional_str,
        "URL prefix of the blueprint's routes, e.g. ``/auth``.",
    ),
    Option(
        "blueprint_name",
        "GOOGLE_FLOW_BLUEPRINT_NAME",
        "google_flow",
        str,
        "Name of the blueprint, and so the prefix of its ``url_for`` endpoint names.",
    ),
    Option(
        "register_blueprint",
        "GOOGLE_FLOW_REGISTER_BLUEPRINT",
        True,
        _boolean,
        "Register the blueprint on the app in ``init_app``. Set to false to mount "
        "``google_flow.make_blueprint()`` inside your own blueprint instead.",
    ),
    Option(
        "default_next",
        "GOOGLE_FLOW_DEFAULT_NEXT",
        "/",
        str,
        "Where the browser goes after sign-in when ``next`` is missing or refused.",
    ),
    Option(
        "access_type",
        "GOOGLE_FLOW_ACCESS_TYPE",
        "offline",
        _optional_str,
        "``offline`` asks for a refresh token; ``online`` does not.",
    ),
    Option(
        "prompt",
        "GOOGLE_FLOW_PROMPT",
        None,
        _optional_str,
        "Default ``prompt`` (``consent``, ``select_account``, ``none``).",
    ),
    Option(
        "hosted_domain",
        "GOOGLE_FLOW_HOSTED_DOMAIN",
        None,
        _optional_str,
        "Restrict sign-in to one Google Workspace domain: sent as ``hd`` and "
        "checked against the ID token's ``hd`` claim.",
    ),
    Option(
        "redirect_uri",
        "GOOGLE_FLOW_REDIRECT_URI",
        None,
        _optional_str,
        "Explicit redirect URI (behind proxies). Default: the client secrets' "
        "``redirect_uris`` entry whose path is the callback route, else "
        "``url_for(..., _external=True)``.",
    ),
    Option(
        "discovery_url",
        "GOOGLE_FLOW_DISCOVERY_URL",
        None,
        _optional_str,
        "OpenID discovery document of another provider (or of the fake Google). "
        "Default: Google's endpoints, built in (nothing is fetched).",
    ),
    Option(
        "issuer",
        "GOOGLE_FLOW_ISSUER",
        None,
        _optional_str,
        "Override the issuer expected in ID tokens and in ``iss`` callback parameters.",
    ),
    Option(
        "authorization_endpoint",
        "GOOGLE_FLOW_AUTHORIZATION_ENDPOINT",
        None,
        _optional_str,
        "Override the authorization endpoint.",
    ),
    Option(
        "token_endpoint",
        "GOOGLE_FLOW_TOKEN_ENDPOINT",
        None,
        _optional_str,
        "Override the token endpoint.",
    ),
    Option(
        "revocation_endpoint",
        "GOOGLE_FLOW_REVOCATION_ENDPOINT",
        None,
        _optional_str,
        "Override the revocation endpoint.",
    ),
    Option(
        "userinfo_endpoint",
        "GOOGLE_FLOW_USERINFO_ENDPOINT",
        None,
        _optional_str,
        "Override the userinfo endpoint. The extension itself never calls it; apps "
        "read it as ``google_flow.state().metadata.userinfo_endpoint`` (the example "
        "app does) to call it through ``authorized_session()``.",
    ),
    Option(
        "jwks_uri",
        "GOOGLE_FLOW_JWKS_URI",
        None,
        _optional_str,
        "Override the signing-certs URL (JWKS, or Google's PEM cert map).",
    ),
    Option(
        "ca_bundle",
        "GOOGLE_FLOW_CA_BUNDLE",
        None,
        _ca_bundle,
        "Path of a PEM CA bundle to verify the provider's TLS certificates with "
        "(e.g. the fake Google's ``ca_bundle``). Default: requests' own "
        "(``REQUESTS_CA_BUNDLE``, else certifi's). When set it wins over "
        "``REQUESTS_CA_BUNDLE``; checked at ``init_app``.",
    ),
    Option(
        "pending_ttl",
        "GOOGLE_FLOW_PENDING_TTL",
        600,
        int,
        "Seconds a started sign-in stays valid before its callback must arrive.",
    ),
    Option(
        "max_pending",
        "GOOGLE_FLOW_MAX_PENDING",
        10,
        int,
        "Most concurrent pending sign-ins per browser session (oldest evicted).",
    ),
    Option(
        "http_timeout",
        "GOOGLE_FLOW_HTTP_TIMEOUT",
        10.0,
        float,
        "Timeout in seconds of every HTTP call to the provider.",
    ),
    Option(
        "api_timeout",
        "GOOGLE_FLOW_API_TIMEOUT",
        None,
        _optional_float,
        "Default timeout in seconds of each request made with "
        "``google_flow.authorized_session()`` (google-auth's own default is 120 s). "
        "Default: ``GOOGLE_FLOW_HTTP_TIMEOUT``. A ``timeout=`` argument of one call wins.",
    ),
    Option(
        "refresh_leeway",
        "GOOGLE_FLOW_REFRESH_LEEWAY",
        60.0,
        float,
        "Refresh an access token this many seconds before it expires, so a token "
        "does not expire on its way to the API.",
    ),
    Option(
        "revoke_status_param",
        "GOOGLE_FLOW_REVOKE_STATUS_PARAM",
        "google_flow_revoke",
        str,
        "Query parameter added to ``next`` after ``POST /revoke`` with the outcome: "
        "``revoked``, ``invalid`` (already invalid at the provider), ``failed`` "
        "(the provider failed or timed out; local state was cleared anyway) or "
        "``none`` (nothing was stored). Empty: add nothing.",
    ),
    Option(
        "clock_skew",
        "GOOGLE_FLOW_CLOCK_SKEW",
        60.0,
        float,
        "Leeway in seconds when checking the ID token's ``exp`` and ``iat``.",
    ),
    Option(
        "session_dir",
        "GOOGLE_FLOW_SESSION_DIR",
        None,
        _optional_str,
        "Folder of the embedded filesystem session backend, used when the app "
        "has not configured Flask-Session. Default: ``<instance>/google_flow_sessions``.",
    ),
    Option(
        "encryption_key",
        "GOOGLE_FLOW_ENCRYPTION_KEY",
        (),
        _key_list,
        "Encrypt the tokens the built-in session credential store keeps (Fernet, from "
        "``cryptography``): one key, or a list (or a comma-separated string) newest first "
        "— the first encrypts, all decrypt, for key rotation. Empty: not encrypted.",
    ),
    Option(
        "rotation_grace",
        "GOOGLE_FLOW_ROTATION_GRACE",
        30,
        int,
        "Seconds after a sign-in rotated the session id during which other sign-in "
        "callbacks of the same browser, sent with the old cookie, may still finish their "
        "own pending sign-in (into a new session of their own). 0: never.",
    ),
    Option(
        "pending_dir",
        "GOOGLE_FLOW_PENDING_DIR",
        None,
        _optional_str,
        "Folder of the pending sign-ins with a filesystem session backend (the "
        "embedded default, ``SESSION_TYPE = 'filesystem'`` or a cachelib "
        "``FileSystemCache``): every process serving the app must see the same "
        "folder. Default: beside ``GOOGLE_FLOW_SESSION_DIR`` when that is set "
        "(``<session dir>-pending``), else ``<instance>/google_flow_pending``.",
    ),
    Option(
        "gsi_script_url",
        "GOOGLE_FLOW_GSI_SCRIPT_URL",
        "https://accounts.google.com/gsi/client",
        _script_url,
        "URL of the Google Identity Services client script that "
        "``google_sign_in_button()`` / ``google_one_tap()`` load (https, or http on "
        "a loopback host: the fake Google's stand-in in development mode).",
    ),
    Option(
        "gsi_allowed_origins",
        "GOOGLE_FLOW_GSI_ALLOWED_ORIGINS",
        ("https://accounts.google.com",),
        _scope_list,
        "Origins besides the app's own from which ``POST /gsi`` is accepted: Google's, "
        "which posts the credential itself in ``ux_mode=redirect``.",
    ),
    Option(
        "gsi_use_fedcm",
        "GOOGLE_FLOW_GSI_USE_FEDCM",
        True,
        _boolean,
        "Default of ``data-use_fedcm_for_prompt``: show One Tap through the browser's "
        "FedCM API where it has one (Chrome), which works without third-party cookies.",
    ),
    Option(
        "gsi_csp_nonce",
        "GOOGLE_FLOW_GSI_CSP_NONCE",
        None,
        _optional_callable,
        "A function returning this request's Content-Security-Policy nonce, put on the "
        "GIS ``<script>`` tag. Default: ``request.csp_nonce`` when set (Flask-Talisman).",
    ),
    Option(
        "risc_enabled",
        "GOOGLE_FLOW_RISC_ENABLED",
        False,
        _boolean,
        "Serve ``POST /risc``, the Cross-Account Protection receiver of Google's security "
        "events (see the Cross-Account Protection guide). Needs a session backend with a "
        "pending-flow store of its own (every supported one; not the in-session fallback).",
    ),
    Option(
        "risc_configuration_url",
        "GOOGLE_FLOW_RISC_CONFIGURATION_URL",
        "https://accounts.google.com/.well-known/risc-configuration",
        str,
        "The transmitter's RISC configuration (its SETs' ``issuer`` and ``jwks_uri``), "
        "cached per its HTTP cache headers.",
    ),
    Option(
        "risc_audiences",
        "GOOGLE_FLOW_RISC_AUDIENCES",
        (),
        _scope_list,
        "Further client ids of the same Google Cloud project (Android, iOS...) accepted "
        "in a security event's ``aud``, besides this app's client id.",
    ),
    Option(
        "risc_max_age",
        "GOOGLE_FLOW_RISC_MAX_AGE",
        86400,
        int,
        "Oldest security event accepted, in seconds since its ``iat`` (Google redelivers "
        "for a while); its ``jti`` is remembered this long, so a replay does nothing.",
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """The resolved options of one app (see :data:`OPTIONS` for each field's meaning)."""

    client_secrets_file: str | None
    client_config: Mapping[str, Any] | None = field(repr=False)  # holds the client secret
    scopes: tuple[str, ...]
    extra_scopes: tuple[str, ...]
    url_prefix: str | None
    blueprint_name: str
    register_blueprint: bool
    default_next: str
    access_type: str | None
    prompt: str | None
    hosted_domain: str | None
    redirect_uri: str | None
    discovery_url: str | None
    issuer: str | None
    authorization_endpoint: str | None
    token_endpoint: str | None
    revocation_endpoint: str | None
    userinfo_endpoint: str | None
    jwks_uri: str | None
    ca_bundle: str | None
    pending_ttl: int
    max_pending: int
    http_timeout: float
    api_timeout: float | None
    refresh_leeway: float
    revoke_status_param: str
    clock_skew: float
    session_dir: str | None
    encryption_key: tuple[str, ...] = field(repr=False)
    rotation_grace: int
    pending_dir: str | None
    risc_enabled: bool
    risc_configuration_url: str
    risc_audiences: tuple[str, ...]
    risc_max_age: int
    gsi_script_url: str = "https://accounts.google.com/gsi/client"
    gsi_allowed_origins: tuple[str, ...] = ("https://accounts.google.com",)
    gsi_use_fedcm: bool = True
    gsi_csp_nonce: Callable[[], str | None] | None = None

    @property
    def effective_api_timeout(self) -> float:
        """Timeout of ``authorized_session()`` calls: ``api_timeout``, else ``http_timeout``."""
        return self.api_timeout if self.api_timeout is not None else self.http_timeout

    def endpoint_overrides(self) -> dict[str, str]:
        """The provider endpoints set explicitly, by metadata field name."""
        names = (
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        )
        return {name: getattr(self, name) for name in names if getattr(self, name)}


def check_option_names(names: Mapping[str, Any]) -> None:
    """Raise :class:`TypeError` for a constructor argument that is not an option."""
    unknown = sorted(set(names) - set(OPTIONS_BY_NAME))
    if unknown:
        raise TypeError(f"GoogleFlow() got unknown option(s): {', '.join(unknown)}")


def resolve_settings(config: Mapping[str, Any], arguments: Mapping[str, Any]) -> Settings:
    """Merge constructor arguments, app config and defaults into :class:`Settings`.

    :param config: the Flask app's ``config``.
    :param arguments: options given to the constructor (``None`` means "not given").
    :raises ValueError: a value cannot be parsed; the message names the config key.
    """
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw = arguments.get(option.name)
        if raw is None:
            raw = config.get(option.config_key)
        if raw is None:
            values[option.name] = option.default
            continue
        try:
            values[option.name] = option.parse(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid {option.config_key}: {exc}") from None
    settings = Settings(**values)
    if settings.pending_ttl <= 0 or settings.max_pending <= 0 or settings.http_timeout <= 0:
        raise ValueError(
            "GOOGLE_FLOW_PENDING_TTL, GOOGLE_FLOW_MAX_PENDING and "
            "GOOGLE_FLOW_HTTP_TIMEOUT must be positive"
        )
    if settings.api_timeout is not None and settings.api_timeout <= 0:
        raise ValueError("GOOGLE_FLOW_API_TIMEOUT must be positive")
    if settings.refresh_leeway < 0:
        raise ValueError("GOOGLE_FLOW_REFRESH_LEEWAY must not be negative")
    if settings.rotation_grace < 0:
        raise ValueError("GOOGLE_FLOW_ROTATION_GRACE must not be negative")
    if settings.risc_max_age <= 0:
        raise ValueError("GOOGLE_FLOW_RISC_MAX_AGE must be positive")
    return settings
