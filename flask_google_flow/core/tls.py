"""A transport adapter that verifies TLS against one CA bundle, whatever else says otherwise.

``requests`` lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` in the
environment win over a session's own ``verify`` (psf/requests#3829), so
``session.verify = path`` alone is ignored on machines that set those
variables. :class:`CABundleAdapter` applies its bundle at the adapter, the
last step before a connection is made: every request sent through it is
verified against that bundle, whatever the session, the call or the
environment say. Used by :class:`~flask_google_flow.core.provider.ProviderClient`
for ``GOOGLE_FLOW_CA_BUNDLE`` and by the fake Google's
:meth:`~flask_google_flow.testing.FakeGoogle.trust`.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from requests.adapters import HTTPAdapter

__all__ = ["CABundleAdapter"]


class CABundleAdapter(HTTPAdapter):
    """An :class:`~requests.adapters.HTTPAdapter` that verifies certificates against ``ca_bundle``.

    :param ca_bundle: path of a PEM file of trusted CA certificates.
    :param kwargs: passed to :class:`~requests.adapters.HTTPAdapter`
        (``pool_connections``, ``pool_maxsize``, ``max_retries``...).
    """

    def __init__(self, ca_bundle: str | os.PathLike[str], **kwargs: Any) -> None:
        self.ca_bundle = os.fspath(ca_bundle)
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send *request*, verifying the server's certificate against ``ca_bundle``."""
        kwargs["verify"] = self.ca_bundle
        return super().send(request, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.ca_bundle!r})"
