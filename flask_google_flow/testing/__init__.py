"""Testing support: a fake Google authorization server (and, separately, pytest fixtures).

:class:`FakeGoogle` implements Google's OAuth 2.0 / OpenID Connect endpoints
with the real rules — single-use, short-lived codes bound to the client,
redirect URI and PKCE S256 challenge; refresh tokens; RS256 ID tokens signed
with a test key and published as PEM certs and a JWKS; userinfo; revocation;
discovery — plus hooks to script failures. Nothing here is active unless a test
(or the example app's development mode) imports it and starts it:

* in-process, with no network::

      fake = FakeGoogle()
      with fake.intercept():          # requests to Google's URLs reach the fake
          ...

* as a real server on ``127.0.0.1``: the consent page over plain http (for
  browsers), the back channel (token, certs, userinfo, revoke, discovery)
  over https with a throw-away CA that ``fake.ca_bundle`` trusts::

      with fake.serve() as base_url:  # the issuer: https://127.0.0.1:<port>
          app.config["GOOGLE_FLOW_CA_BUNDLE"] = fake.ca_bundle
          ...

or ``python -m flask_google_flow.testing --port 8765`` in the foreground,
which prints the settings to use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._authorization import (
        AuthorizationRequest,
        AuthorizationRequestError,
    )
    from ._clock import FakeClock
    from ._endpoints import Endpoints
    from ._failures import (
        ENDPOINTS,
        GENERIC_FAILURES,
        ID_TOKEN_TAMPERS,
        TOKEN_FAILURES,
    )
    from ._keys import (
        SigningKey,
        pooled_signing_key,
    )
    from ._model import (
        Account,
        Client,
        OAuthError,
    )
    from .fake_google import (
        DEFAULT_ACCOUNT_EMAIL,
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        DEFAULT_REDIRECT_URI,
        FakeGoogle,
        s256_challenge,
    )

_EXPORTS = {
    "AuthorizationRequest": "._authorization",
    "AuthorizationRequestError": "._authorization",
    "FakeClock": "._clock",
    "Endpoints": "._endpoints",
    "ENDPOINTS": "._failures",
    "GENERIC_FAILURES": "._failures",
    "ID_TOKEN_TAMPERS": "._failures",
    "TOKEN_FAILURES": "._failures",
    "SigningKey": "._keys",
    "pooled_signing_key": "._keys",
    "Account": "._model",
    "Client": "._model",
    "DEFAULT_ACCOUNT_EMAIL": ".fake_google",
    "DEFAULT_CLIENT_ID": ".fake_google",
    "DEFAULT_CLIENT_SECRET": ".fake_google",
    "DEFAULT_REDIRECT_URI": ".fake_google",
    "FakeGoogle": ".fake_google",
    "OAuthError": "._model",
    "s256_challenge": ".fake_google",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

__all__ = [
    "DEFAULT_ACCOUNT_EMAIL",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "ENDPOINTS",
    "GENERIC_FAILURES",
    "ID_TOKEN_TAMPERS",
    "TOKEN_FAILURES",
    "Account",
    "AuthorizationRequest",
    "AuthorizationRequestError",
    "Client",
    "Endpoints",
    "FakeClock",
    "FakeGoogle",
    "OAuthError",
    "SigningKey",
    "pooled_signing_key",
    "s256_challenge",
]
