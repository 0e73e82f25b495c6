"""The loopback rule of RFC 8252, in one place.

Plain ``http`` is acceptable only towards the local machine: for redirect URIs
of native apps (RFC 8252 §7.3 and §8.3) and for provider endpoints in local
development and tests. Both the flow layer and the provider client ask this
one function.
"""

from __future__ import annotations

import ipaddress


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
