"""The loopback rule of RFC 8252, in one place.

Plain ``http`` is acceptable only towards the local machine: for redirect URIs
of native apps (RFC 8252 §7.3 and §8.3) and for provider endpoints in local
development and tests. Both the flow layer and the provider client ask this
one function.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..exceptions import OAuthlibInsecureTransportError


def is_loopback_host(host: str | None) -> bool:
    """Whether *host* names the local machine's loopback interface.

    ``localhost``, any ``127.0.0.0/8`` address and ``::1`` are loopback.

    :param host: a host name or IP literal; IPv6 with or without brackets, as
        :attr:`urllib.parse.SplitResult.hostname` gives it or not; a trailing
        dot is ignored.
    """
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: object, what: str, *, allow_insecure_http: bool = False) -> None:
    """Refuse a plain-``http`` URL towards a non-loopback host.

    ``https`` and custom schemes (private-use redirect URIs such as
    ``com.example.app:/cb``) pass; so does ``http`` to a loopback host, and any
    ``http`` when *allow_insecure_http* is true. Values that are not strings are
    left alone (they are the caller's business, as with the reference library).

    :param url: the URL about to be used.
    :param what: what the URL is, for the message (``"redirect URI"``...).
    :param allow_insecure_http: the caller's explicit opt-in.
    :raises InsecureTransportError: (also oauthlib's ``InsecureTransportError``)
        naming *what* and the host, never the rest of the URL.
    """
    if not isinstance(url, str) or url.startswith("https://"):
        return  # the common case, without parsing
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return
    if allow_insecure_http or is_loopback_host(parts.hostname):
        return
    raise OAuthlibInsecureTransportError(
        f"the {what} uses plain http on a non-loopback host ({parts.hostname}); "
        "use https, a loopback host (localhost, 127.0.0.1, ::1), or create the "
        "flow with allow_insecure_http=True"
    )
