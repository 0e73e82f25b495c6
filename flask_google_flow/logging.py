"""A log filter that keeps OAuth secrets out of access logs.

Web servers log every request line, and the sign-in callback's URL carries the
authorization ``code`` and ``state`` in its query string: werkzeug's
development server (logger ``werkzeug``) and gunicorn's access log (logger
``gunicorn.access``) print them in clear. They are single use and short-lived,
but a log is read by more people, for longer, than a sign-in needs. Install
:class:`RedactSecrets` on those loggers::

    from flask_google_flow.logging import install_redaction

    install_redaction()  # werkzeug, gunicorn.access, gunicorn.error

or, in a ``logging.config.dictConfig`` (gunicorn's ``logconfig_dict``)::

    "filters": {"redact": {"()": "flask_google_flow.logging.RedactSecrets"}},
    "handlers": {"access": {..., "filters": ["redact"]}},

This module does not import Flask; any logger can use the filter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["DEFAULT_LOGGERS", "REDACTED", "RedactSecrets", "install_redaction", "redact"]

#: What a redacted value is replaced with.
REDACTED = "[redacted]"

#: Loggers :func:`install_redaction` filters by default.
DEFAULT_LOGGERS: tuple[str, ...] = ("werkzeug", "gunicorn.access", "gunicorn.error")

#: Parameter names whose values are secret wherever they appear as ``name=value``.
SECRET_PARAMETERS: tuple[str, ...] = (
    "code",
    "state",
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "code_verifier",
    "nonce",
    "token",
    "credential",
    "g_csrf_token",
    "assertion",
)

_PARAMETER = re.compile(
    r"(?<![A-Za-z0-9_.\-])(" + "|".join(SECRET_PARAMETERS) + r")=([^&\s\"'<>;,]+)",
    re.IGNORECASE,
)

#: Values that look like credentials whatever they are called: Google access
#: tokens (``ya29.``), refresh tokens (``1//``), authorization codes (``4/0``),
#: client secrets (``GOCSPX-``), JWTs (three base64url parts, the first a JSON
#: header) and ``Bearer`` credentials.
_TOKEN_LIKE = re.compile(
    r"ya29\.[A-Za-z0-9_\-.]+"
    r"|(?<![A-Za-z0-9])1(?:/|%2F){2}[A-Za-z0-9_\-]{10,}"
    r"|(?<![A-Za-z0-9])4(?:/|%2F)0[A-Za-z0-9_\-]{10,}"
    r"|GOCSPX-[A-Za-z0-9_\-]+"
    r"|eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"
    r"|(?<=Bearer )[A-Za-z0-9_\-.~+/]{8,}=*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """*text* with secret parameter values and token-looking values replaced.

    ``GET /oauth2callback?state=abc&code=4/0Ab...&iss=https://accounts.google.com``
    becomes ``GET /oauth2callback?state=[redacted]&code=[redacted]&iss=https://accounts.google.com``.
    """
    text = _PARAMETER.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _TOKEN_LIKE.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """A :class:`logging.Filter` that redacts OAuth secrets from each record's message.

    The record's message is formatted once (``record.getMessage()``), redacted
    with :func:`redact` and, only if something changed, stored back as its
    ``msg`` with no ``args``. It never drops a record. Works for werkzeug's
    request lines (``%s`` arguments) and gunicorn's access log (a format
    string with a dict of atoms).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact *record* in place; always ``True`` (keep the record)."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a broken record: logging reports it itself
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def install_redaction(names: Iterable[str] = DEFAULT_LOGGERS) -> None:
    """Add one :class:`RedactSecrets` to each named logger (again: no second one).

    A logger's filters see only records logged to that logger itself, which
    is how werkzeug and gunicorn log their request lines.

    :param names: logger names; default :data:`DEFAULT_LOGGERS`.
    """
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
