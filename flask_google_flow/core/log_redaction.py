"""Keep secrets out of log records: ours and those of the libraries the flow layer drives.

At ``DEBUG`` level ``requests-oauthlib`` logs the generated ``state``, the
token request's body and headers (code, PKCE verifier, client secret) and the
token it obtained; ``urllib3`` logs request paths with their query strings;
google-auth can log request headers (``Authorization: Bearer ...``). This
module redacts those records with standard :mod:`logging` filters attached to
the libraries' named loggers, so an application that turns on ``DEBUG``
logging never writes a secret. Nothing else about those loggers changes
(levels, handlers and propagation stay as the application set them).

:class:`RedactingFilter` is public: attach it to any logger or handler, for
example an access log that prints callback URLs (``?code=...&state=...``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LIBRARY_LOGGERS",
    "OPAQUE_LOGGERS",
    "REDACTED",
    "RedactingFilter",
    "install_library_filters",
    "redact_text",
]

#: What a redacted value is replaced with.
REDACTED = "[redacted]"

#: Names whose values are secrets wherever they appear (query, form, JSON, repr).
_SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "code",
    "state",
    "code_verifier",
    "client_secret",
    "nonce",
    "assertion",
    "password",
    "g_csrf_token",
    "credential",
)
_NAMES = "|".join(sorted(_SECRET_NAMES, key=len, reverse=True))
# name=value in a query string or form body (also URL-encoded inside another value).
_PAIR = re.compile(
    rf"(?i)(?:(?<![A-Za-z0-9_])|(?<=%3F)|(?<=%26))({_NAMES})(=|%3D)([^&\s#\"',;)\]}}]+)"
)
# "name": "value" (JSON) and 'name': 'value' (Python repr).
_QUOTED = re.compile(rf"(?i)([\"'](?:{_NAMES})[\"']\s*:\s*)([\"'])(.*?)(?<!\\)\2")
# Authorization header values.
_AUTH = re.compile(r"(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/=]+")

_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_SECRET_KEYS = frozenset(_SECRET_NAMES) | {"authorization", "cookie", "set-cookie"}


def redact_text(text: str) -> str:
    """*text* with every secret-looking value replaced by :data:`REDACTED`.

    Covers ``name=value`` pairs in URLs and form bodies, ``"name": "value"``
    in JSON or Python reprs (for the names ``code``, ``state``, ``token``,
    ``access_token``, ``refresh_token``, ``id_token``, ``code_verifier``,
    ``client_secret``, ``nonce`` and a few more) and ``Bearer``/``Basic``
    authorization values.
    """
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    return _AUTH.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if depth > 5:
        return REDACTED
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if isinstance(key, str) and key.lower() in _SECRET_KEYS
                else _redact_value(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, depth + 1) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_text(repr(value))


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that removes secrets from every record it sees.

    It never drops a record; it rewrites the message (and any ``extra``
    fields) in place before handlers format it.

    :param opaque: replace every argument of the message that is not a number
        with :data:`REDACTED` instead of scanning it. For loggers whose
        arguments are whole request bodies, headers or tokens (those of
        ``requests-oauthlib`` and ``oauthlib``), where scanning could miss a
        format nobody foresaw.
    """

    def __init__(self, *, opaque: bool = False) -> None:
        super().__init__()
        self.opaque = opaque

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact *record* in place; always keep it."""
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        args = record.args
        if args:
            if isinstance(args, Mapping):
                record.args = {key: self._arg(value) for key, value in args.items()}
            else:
                record.args = tuple(self._arg(value) for value in args)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, _redact_value(value))
        return True

    def _arg(self, value: Any) -> Any:
        if isinstance(value, (bool, int, float)) or value is None:
            return value
        if self.opaque:
            return REDACTED
        return _redact_value(value)


#: Loggers whose arguments are replaced wholesale (see ``RedactingFilter(opaque=True)``).
OPAQUE_LOGGERS: tuple[str, ...] = (
    "requests_oauthlib",
    "requests_oauthlib.oauth2_session",
    "oauthlib",
    "oauthlib.oauth2.rfc6749",
    "oauthlib.oauth2.rfc6749.endpoints.token",
    "oauthlib.oauth2.rfc6749.grant_types.base",
    "oauthlib.oauth2.rfc6749.grant_types.authorization_code",
    "oauthlib.oauth2.rfc6749.grant_types.refresh_token",
)
#: Loggers whose records are scanned with :func:`redact_text`.
LIBRARY_LOGGERS: tuple[str, ...] = (
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "requests",
    "google.auth.transport.requests",
    "google.auth._helpers",
    "google.oauth2._client",
    "google.oauth2.credentials",
    "google.auth.transport",
)

_installed = False
_lock = threading.Lock()


def install_library_filters() -> None:
    """Attach a :class:`RedactingFilter` to each logger in :data:`OPAQUE_LOGGERS` and
    :data:`LIBRARY_LOGGERS` (once per process; later calls do nothing).

    Called when the first :class:`~flask_google_flow.flow.Flow` is created.
    """
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        for name in OPAQUE_LOGGERS:
            logging.getLogger(name).addFilter(RedactingFilter(opaque=True))
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(RedactingFilter())
        _installed = True
