"""The same-origin rule of the state-changing routes (``POST /revoke``, ``POST /logout``).

A cross-site form can make a browser POST to these routes with the user's
cookies. Browsers send an ``Origin`` header with every cross-origin POST (and,
today, with same-origin POSTs too), so a POST is accepted only when:

* its ``Origin`` is this app's own scheme, host and port; or
* it has no ``Origin`` and its ``Referer`` is a URL on this app's origin.

Neither header (some privacy tools strip both), ``Origin: null`` (sandboxed
frames, some redirects) or another origin → 403. The app's origin is the
request's own ``scheme://host`` as Flask sees it, so behind a reverse proxy
apply :class:`werkzeug.middleware.proxy_fix.ProxyFix`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from .errors import CrossOriginRequest

__all__ = ["CrossOriginRequest", "check_same_origin", "claimed_origin", "origin_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an absolute http(s) URL, or ``None``."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def claimed_origin() -> tuple[str, str, int] | None:
    """The current request's origin by its ``Origin`` header, else its ``Referer``.

    ``None`` for ``Origin: null``, an unparsable value, or neither header.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin_of(origin) if origin.strip().lower() != "null" else None
    referer = request.headers.get("Referer")
    return origin_of(referer) if referer else None


def check_same_origin() -> None:
    """Raise :class:`~flask_google_flow.ext.errors.CrossOriginRequest` unless same-origin."""
    own = origin_of(request.host_url)
    claimed = claimed_origin()
    if own is None or claimed is None or claimed != own:
        raise CrossOriginRequest()
