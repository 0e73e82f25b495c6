"""Keep OAuth secrets out of the server's request log.

Werkzeug's development server and gunicorn log every request line, and the
callback's query string carries the authorization code and state. They are
single use, but they have no place in a log: the library's
:class:`flask_google_flow.logging.RedactSecrets` filter replaces them with
``[redacted]``.
"""

from __future__ import annotations

from flask_google_flow.logging import RedactSecrets, install_redaction

__all__ = ["RedactSecrets", "install"]


def install() -> None:
    """Filter werkzeug's and gunicorn's request logs (once per process)."""
    install_redaction()
