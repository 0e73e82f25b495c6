"""Configuration mistakes caught at ``init_app``, each naming the setting.

:func:`check_configuration` runs once per app, after the options are resolved
and the client secrets loaded. Mistakes that would break every sign-in raise
:class:`ValueError` (empty ``GOOGLE_SCOPES``, a redirect URI Google would
refuse or that is not https, ``SESSION_COOKIE_SAMESITE="Strict"``); a config
key that looks like a misspelt option only warns
(:class:`ConfigurationWarning`), because other libraries use ``GOOGLE_*`` keys
too (``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``...).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.provider import check_endpoint_url
from ..exceptions import InsecureTransportError
from .config import OPTIONS, Settings

__all__ = ["ConfigurationWarning", "check_configuration", "unknown_keys"]

#: Every config key the extension reads.
KNOWN_KEYS: tuple[str, ...] = tuple(option.config_key for option in OPTIONS)

_OWN_PREFIX = "GOOGLE_FLOW_"
_SHARED_PREFIX = "GOOGLE_"
#: How alike a ``GOOGLE_*`` key of another library must be to one of ours
#: before it is reported (``GOOGLE_SCOPE`` is; ``GOOGLE_CLOUD_PROJECT`` is not).
_SHARED_CUTOFF = 0.8


class ConfigurationWarning(UserWarning):
    """A config key looks like a misspelt option of flask-google-flow.

    Turn it into an error with ``warnings.simplefilter("error", ConfigurationWarning)``,
    or silence it for a key another library reads.
    """


def unknown_keys(config_keys: Iterable[str]) -> list[tuple[str, str | None]]:
    """Config keys that look like options but are not, each with the closest known key.

    Every unknown ``GOOGLE_FLOW_*`` key is reported (that prefix is this
    library's), with the closest option if any; a ``GOOGLE_*`` key only when
    it is close to an option (``GOOGLE_SCOPE`` → ``GOOGLE_SCOPES``), since
    other libraries read keys of that prefix.
    """
    found: list[tuple[str, str | None]] = []
    for key in config_keys:
        if not isinstance(key, str) or key in KNOWN_KEYS:
            continue
        if key.startswith(_OWN_PREFIX):
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            found.append((key, close[0] if close else None))
        elif key.startswith(_SHARED_PREFIX):
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=_SHARED_CUTOFF)
            if close:
                found.append((key, close[0]))
    return found


def _warn_unknown_keys(config: Mapping[str, Any]) -> None:
    for key, closest in unknown_keys(config):
        hint = f"; did you mean {closest}?" if closest else ""
        warnings.warn(
            f"{key} is not a setting of flask-google-flow{hint} "
            "(ignore this if another library reads it)",
            ConfigurationWarning,
            stacklevel=4,
        )


def _check_scopes(settings: Settings) -> None:
    if not settings.scopes:
        raise ValueError(
            "GOOGLE_SCOPES is empty: list the scopes to request at sign-in, "
            "e.g. ['openid', 'email', 'profile'] (or leave it unset for that default)"
        )


def _check_redirect_uri(settings: Settings, client: Mapping[str, Any]) -> None:
    uri = settings.redirect_uri
    if not uri:
        return
    try:
        check_endpoint_url(uri, name="redirect URI")
    except InsecureTransportError as exc:
        raise ValueError(f"GOOGLE_FLOW_REDIRECT_URI: {exc}") from None
    registered = [u for u in client.get("redirect_uris") or [] if isinstance(u, str)]
    if registered and uri not in registered:
        raise ValueError(
            "GOOGLE_FLOW_REDIRECT_URI is not one of the client secrets' redirect_uris, "
            "so Google would refuse every sign-in (redirect_uri_mismatch); register it "
            "in Google Cloud Console and download the client secrets again. "
            f"Registered: {', '.join(registered)}"
        )


def _check_cookie(config: Mapping[str, Any]) -> None:
    samesite = config.get("SESSION_COOKIE_SAMESITE")
    if isinstance(samesite, str) and samesite.strip().lower() == "strict":
        raise ValueError(
            'SESSION_COOKIE_SAMESITE="Strict" breaks sign-in: the browser arrives at '
            "/oauth2callback from Google without the session cookie, so no sign-in "
            "could ever complete. Use \"Lax\" (Flask-Session's and browsers' default)."
        )


def check_configuration(
    config: Mapping[str, Any], settings: Settings, client: Mapping[str, Any]
) -> None:
    """Check one app's settings; raise or warn naming the setting at fault.

    :param config: the app's ``config``.
    :param settings: the resolved options.
    :param client: the ``web``/``installed`` section of the client secrets.
    :raises ValueError: a setting would make every sign-in fail.
    :warns ConfigurationWarning: a config key looks like a misspelt option.
    """
    _warn_unknown_keys(config)
    _check_scopes(settings)
    _check_redirect_uri(settings, client)
    _check_cookie(config)
