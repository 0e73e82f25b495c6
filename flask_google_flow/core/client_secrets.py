"""Load and validate Google's client-secrets JSON.

Google's API console hands out a JSON document with one top-level key, ``web``
(for server-side web applications) or ``installed`` (for desktop and CLI
applications), whose value holds the OAuth client's settings::

    {"web": {"client_id": "...", "client_secret": "...",
             "auth_uri": "https://accounts.google.com/o/oauth2/auth",
             "token_uri": "https://oauth2.googleapis.com/token",
             "redirect_uris": ["https://example.com/oauth2callback"]}}

Everything that is wrong with such a document raises
:class:`~flask_google_flow.exceptions.ClientSecretsError` (a :class:`ValueError`)
whose message names the file, when there is one, and the exact problem. The
value of ``client_secret`` never appears in a message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from ..exceptions import ClientSecretsError

__all__ = ["CLIENT_TYPES", "REQUIRED_KEYS", "load_client_secrets_file", "validate_client_config"]

#: The top-level keys Google uses, in the order they are looked for.
CLIENT_TYPES: tuple[str, ...] = ("web", "installed")

#: The keys every client configuration must carry (non-empty strings).
REQUIRED_KEYS: tuple[str, ...] = ("client_id", "auth_uri", "token_uri")

# Optional keys whose type we check when present.
_OPTIONAL_STRING_KEYS = ("client_secret", "project_id", "auth_provider_x509_cert_url")
_OPTIONAL_LIST_KEYS = ("redirect_uris", "javascript_origins")


def _where(source: str | None) -> str:
    return f"client secrets {source!r}" if source else "client config"


def validate_client_config(
    config: Mapping[str, Any] | str, *, source: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Check a client configuration in Google's client-secrets format.

    :param config: the whole document: a mapping with a ``web`` or ``installed``
        key, or the same document as a JSON string (as an environment variable
        or a ``GOOGLE_CLIENT_CONFIG`` setting may hold it).
    :param source: where the configuration came from (a file name or a setting
        name), used in error messages only.
    :returns: ``(client_type, config)`` where ``client_type`` is ``"web"`` or
        ``"installed"`` and ``config`` is the whole document (the mapping given,
        or the parsed JSON). ``web`` wins when both keys are present.
    :raises ClientSecretsError: if the JSON cannot be parsed, the top level is
        not an object, neither ``web`` nor ``installed`` is present, a required
        key (``client_id``, ``auth_uri``, ``token_uri``) is missing or empty, or
        a value has the wrong type.
    """
    where = _where(source)
    if isinstance(config, (str, bytes, bytearray)):
        try:
            config = json.loads(config)
        except ValueError as exc:
            # JSONDecodeError's message gives only the position, never the text.
            position = (
                f" (line {exc.lineno}, column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            raise ClientSecretsError(f"{where} is not valid JSON{position}") from None
    if not isinstance(config, Mapping):
        raise ClientSecretsError(
            f"{where} must be a JSON object with a 'web' or 'installed' key, "
            f"not {type(config).__name__}"
        )
    client_type = next((name for name in CLIENT_TYPES if name in config), None)
    if client_type is None:
        hint = ""
        if "client_id" in config:
            hint = (
                "; it looks like the inner object only, wrap it as "
                '{"web": {...}} or {"installed": {...}}'
            )
        found = ", ".join(repr(str(key)) for key in list(config)[:10]) or "none"
        raise ClientSecretsError(
            f"{where} must be for a web or installed app: expected a top-level "
            f"'web' or 'installed' key, found keys: {found}{hint}"
        )
    inner = config[client_type]
    if not isinstance(inner, Mapping):
        raise ClientSecretsError(
            f"{where}: '{client_type}' must be a JSON object, not {type(inner).__name__}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in inner]
    if missing:
        raise ClientSecretsError(
            f"{where}: '{client_type}' is missing required key(s): {', '.join(missing)}"
        )
    for key in REQUIRED_KEYS:
        value = inner[key]
        if not isinstance(value, str):
            raise ClientSecretsError(
                f"{where}: '{client_type}.{key}' must be a string, not {type(value).__name__}"
            )
        if not value.strip():
            raise ClientSecretsError(f"{where}: '{client_type}.{key}' is empty")
    for key in _OPTIONAL_STRING_KEYS:
        if key in inner and not isinstance(inner[key], str):
            raise ClientSecretsError(
                f"{where}: '{client_type}.{key}' must be a string, not {type(inner[key]).__name__}"
            )
    for key in _OPTIONAL_LIST_KEYS:
        if key in inner:
            value = inner[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ClientSecretsError(
                    f"{where}: '{client_type}.{key}' must be a list of strings"
                )
    return client_type, config if isinstance(config, dict) else dict(config)


def load_client_secrets_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """Read and validate a client-secrets JSON file.

    :param path: the file downloaded from the Google API console.
    :returns: ``(client_type, config)`` as :func:`validate_client_config` does.
    :raises ClientSecretsError: naming the file, if it does not exist, cannot be
        read, is not UTF-8 JSON, or does not have the expected shape.
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ClientSecretsError(f"client secrets file {name!r} does not exist") from None
    except IsADirectoryError:
        raise ClientSecretsError(
            f"client secrets file {name!r} is a directory, not a file"
        ) from None
    except PermissionError:
        raise ClientSecretsError(
            f"client secrets file {name!r} cannot be read: permission denied"
        ) from None
    except UnicodeDecodeError:
        raise ClientSecretsError(f"client secrets file {name!r} is not UTF-8 text") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClientSecretsError(f"client secrets file {name!r} cannot be read: {reason}") from None
    if not text.strip():
        raise ClientSecretsError(f"client secrets file {name!r} is empty")
    return validate_client_config(text, source=name)
