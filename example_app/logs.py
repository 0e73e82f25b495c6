"""Keep OAuth secrets out of the development server's request log.

Werkzeug's server logs every request line, and the callback's query string
carries the authorization code and state. They are single-use, but they have
no place in a log: this filter replaces their values with ``[redacted]``.
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAMS = re.compile(r"(?<=[?&])(code|state|access_token|id_token|refresh_token)=[^&\s\"]*")


class RedactOAuthParams(logging.Filter):
    """A logging filter that redacts OAuth query parameters in log messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite *record*'s message with the secret parameter values removed."""
        message = record.getMessage()
        redacted = _SECRET_PARAMS.sub(r"\1=[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def install() -> None:
    """Add the filter to werkzeug's logger (once per process)."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactOAuthParams) for f in logger.filters):
        logger.addFilter(RedactOAuthParams())
