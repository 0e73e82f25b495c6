"""The fake Google authorization server: accounts, clients, codes, tokens and their rules.

One :class:`FakeGoogle` holds the state; its :attr:`~FakeGoogle.wsgi_app`
serves it over HTTP, either in-process through ``responses``
(:meth:`FakeGoogle.intercept`) or as a real server on 127.0.0.1
(:meth:`FakeGoogle.start`). Both modes run the same code.

The real server has two listeners, like Google: the **front channel** (the
authorization/consent page a browser visits) over plain http on loopback
(RFC 8252 allows it, and a browser shows no certificate warning), and the
**back channel** (token, certs, userinfo, revoke, discovery: what an app
calls server-to-server) over https with a throw-away CA
(:mod:`~flask_google_flow.testing._tls`); apps trust it through
:attr:`FakeGoogle.ca_bundle`. The back channel's URL is the issuer.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from ._authorization import (
    AuthorizationRequest,
    AuthorizationRequestError,
    add_query,
    parse_authorization_request,
)
from ._endpoints import Endpoints
from ._failures import (
    ENDPOINTS,
    GENERIC_FAILURES,
    ID_TOKEN_TAMPERS,
    TOKEN_FAILURES,
    CountedHooks,
    ScriptedFailure,
)
from ._keys import SigningKey, b64url, pooled_signing_key, unsigned_jwt
from ._model import (
    AccessToken,
    Account,
    AuthorizationCode,
    Client,
    OAuthError,
    RefreshToken,
    canonical_scopes,
    reported_scope,
)

if TYPE_CHECKING:
    import requests
    import responses

    from ._server import BackgroundServer

DEFAULT_CLIENT_ID = "123456789012-fakegoogletesting.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "GOCSPX-fake-google-testing-secret"
DEFAULT_REDIRECT_URI = "http://localhost/oauth2callback"
DEFAULT_ACCOUNT_EMAIL = "tester@example.com"
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_MAX_TIMEOUT_DELAY = 60.0
_CLAIMS_SUPPORTED = (
    *("aud", "azp", "at_hash", "email", "email_verified", "exp", "family_name"),
    *("given_name", "hd", "iat", "iss", "name", "nonce", "picture", "sub"),
)


def _random_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def s256_challenge(code_verifier: str) -> str:
    """Return the PKCE S256 ``code_challenge`` of ``code_verifier``."""
    return b64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


class FakeGoogle:
    """A fake Google OAuth 2.0 / OpenID Connect provider implementing the real rules.

    Nothing is served or intercepted until you call :meth:`intercept` or :meth:`start`.

    :param base_url: serve every endpoint under this URL (issuer = base URL)
        when intercepting; default ``None`` uses Google's real URLs and issuer
        ``https://accounts.google.com``. :meth:`start` replaces it with the
        server's URLs while running (:attr:`base_url`).
    :param clock: a ``time.time``-like callable (e.g. :class:`FakeClock`) for
        every expiry the fake checks and every ``iat``/``exp`` it issues.
    :param signing_key: an RSA private key (object or PEM) or :class:`SigningKey`;
        default: a key from a process-wide pool (fast).
    :param code_lifetime: seconds an authorization code stays valid.
    :param access_token_lifetime: ``expires_in`` of access tokens.
    :param id_token_lifetime: seconds between ``iat`` and ``exp`` of ID tokens.
    :param certs_max_age: ``max-age`` of the certs responses' ``Cache-Control``.
    :param rotate_refresh_tokens: issue a new refresh token on every refresh and
        revoke the old one (Google does not; off by default).
    :param refresh_token_on_every_consent: issue a refresh token on every
        ``access_type=offline`` consent; Google (the default, ``False``) issues
        one only on the first consent of an account to a client, or with
        ``prompt=consent``.
    :param expand_scope_aliases: report ``email``/``profile`` as their URL forms
        in token responses, as Google does.
    :param interactive: show the consent page on ``GET`` of the authorization
        endpoint; ``False`` approves at once as the ``login_hint`` account (or
        the default account) with every requested scope — handy for load tests.
    :param client_id: the default client's id.
    :param client_secret: the default client's secret.
    :param client_type: the default client's type, ``"web"`` or ``"installed"``.
    :param redirect_uris: the default client's registered redirect URIs.
    :param account_email: the default account's email.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: Callable[[], float] | None = None,
        signing_key: SigningKey | Any | None = None,
        code_lifetime: float = 60,
        access_token_lifetime: int = 3599,
        id_token_lifetime: int = 3600,
        certs_max_age: int = 21600,
        rotate_refresh_tokens: bool = False,
        refresh_token_on_every_consent: bool = False,
        expand_scope_aliases: bool = True,
        interactive: bool = True,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        client_type: str = "web",
        redirect_uris: Iterable[str] = (DEFAULT_REDIRECT_URI,),
        account_email: str = DEFAULT_ACCOUNT_EMAIL,
    ) -> None:
        self.clock: Callable[[], float] = clock or time.time
        self.code_lifetime = code_lifetime
        self.access_token_lifetime = access_token_lifetime
        self.id_token_lifetime = id_token_lifetime
        self.certs_max_age = certs_max_age
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.refresh_token_on_every_consent = refresh_token_on_every_consent
        self.expand_scope_aliases = expand_scope_aliases
        self.interactive = interactive
        self._configured_base_url = base_url.rstrip("/") if base_url else None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._servers: tuple[BackgroundServer, BackgroundServer] | None = None
        if signing_key is None:
            key = pooled_signing_key(0)
        elif isinstance(signing_key, SigningKey):
            key = signing_key
        else:
            key = SigningKey.from_private_key(signing_key)
        self._keys: list[SigningKey] = [key]
        self._rotations = 0
        self.accounts: dict[str, Account] = {}
        """Accounts by email."""
        self.clients: dict[str, Client] = {}
        """Registered clients by id."""
        self._codes: dict[str, AuthorizationCode] = {}
        self._access_tokens: dict[str, AccessToken] = {}
        self._refresh_tokens: dict[str, RefreshToken] = {}
        self._grants: dict[tuple[str, str], set[str]] = {}
        self._offline_grants: set[tuple[str, str]] = set()
        self._failures = CountedHooks()
        self._tampers = CountedHooks()
        self.request_counts: collections.Counter[str] = collections.Counter()
        """Requests served per endpoint: ``authorize``, ``token``, ``certs`` (v1 and
        v3), ``userinfo``, ``revoke``, ``discovery``, ``gsi`` (the stand-in GIS
        script's endpoints); failed ones included."""
        self.default_client = self.add_client(
            client_id, client_secret, client_type=client_type, redirect_uris=redirect_uris
        )
        self.default_account = self.add_account(account_email, name="Test User")
        from ._risc import FakeRisc
        from ._wsgi import FakeGoogleApp

        self.risc = FakeRisc(self)
        """Cross-Account Protection: SETs, RISC configuration, stream API (``FakeRisc``)."""
        self.wsgi_app = FakeGoogleApp(self)
        """The WSGI application serving every endpoint (used by both modes)."""

    # -- where it lives ---------------------------------------------------------

    @property
    def base_url(self) -> str | None:
        """The issuer's URL: while the server runs its https back channel
        (``https://127.0.0.1:<port>``, see :attr:`back_channel_url`), else the
        configured ``base_url`` (``None``: Google's)."""
        servers = self._servers
        if servers is not None:
            return servers[1].base_url
        return self._configured_base_url

    @property
    def front_channel_url(self) -> str | None:
        """While the server runs: the plain-http URL of the pages a browser visits
        (the authorization endpoint, ``Endpoints.authorization``); else ``None``."""
        servers = self._servers
        return servers[0].base_url if servers is not None else None

    @property
    def back_channel_url(self) -> str | None:
        """While the server runs: the https URL of the endpoints an app calls
        (token, certs, userinfo, revoke, discovery) and the issuer; else ``None``."""
        servers = self._servers
        return servers[1].base_url if servers is not None else None

    @property
    def endpoints(self) -> Endpoints:
        """The current endpoint URLs (they change while the server runs)."""
        servers = self._servers
        if servers is not None:
            return Endpoints.under(servers[1].base_url, authorization_base=servers[0].base_url)
        base = self._configured_base_url
        return Endpoints.under(base) if base else Endpoints.google()

    @property
    def issuer(self) -> str:
        """The ``iss`` of ID tokens and authorization responses."""
        return self.endpoints.issuer

    @property
    def discovery_url(self) -> str:
        """The URL of the OpenID discovery document."""
        return self.endpoints.discovery

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM CA bundle that trusts the server's https back channel.

        The public CAs ``requests`` trusts by default (``REQUESTS_CA_BUNDLE``,
        else certifi's) plus this process's throw-away CA, which may sign for
        loopback names only — so an app given it (``GOOGLE_FLOW_CA_BUNDLE``)
        still reaches real hosts, and trusts nothing new for them. The same
        file for every fake of the process; deleted when the process exits.
        """
        from ._tls import throwaway_tls

        return throwaway_tls().ca_bundle

    @property
    def ca_cert(self) -> str:
        """Path of the throw-away CA certificate alone (PEM), e.g. for ``curl --cacert``."""
        from ._tls import throwaway_tls

        return throwaway_tls().ca_cert

    def trust(self, session: requests.Session) -> requests.Session:
        """Make ``session`` verify the running server's back channel with the throw-away CA.

        Mounts a :class:`~flask_google_flow.core.tls.CABundleAdapter` for the
        back channel's URL only; other URLs keep the session's own settings.
        Unlike ``session.verify = fake.ca_bundle`` it also holds where
        ``REQUESTS_CA_BUNDLE`` is set (``requests`` lets that variable win
        over ``session.verify``). For a flow: ``fake.trust(flow.oauth2session)``.

        :returns: ``session``.
        :raises RuntimeError: the server is not running.
        """
        from ..core.tls import CABundleAdapter

        back = self.back_channel_url
        if back is None:
            raise RuntimeError("start the fake Google server first (start() or serve())")
        session.mount(back + "/", CABundleAdapter(self.ca_cert))
        return session

    # -- accounts and clients ----------------------------------------------------

    def add_account(
        self,
        email: str,
        *,
        sub: str | None = None,
        name: str | None = None,
        hosted_domain: str | None = None,
        email_verified: bool = True,
        picture: str | None = None,
    ) -> Account:
        """Add (or replace) an account that can sign in.

        :param email: the address; the account is looked up by it.
        :param sub: the subject id; default: a stable 21-digit number.
        :param name: full name; default: derived from the email's local part.
        :param hosted_domain: Workspace domain, put into the ``hd`` claim.
        :param email_verified: the ``email_verified`` claim.
        :param picture: the ``picture`` claim.
        :returns: the new :class:`Account`.
        """
        if sub is None:
            digest = hashlib.sha256(email.lower().encode("utf-8")).hexdigest()
            sub = "1" + str(int(digest[:24], 16))[:20].rjust(20, "0")
        if name is None:
            name = " ".join(part.capitalize() for part in re.split(r"[._+-]", email.split("@")[0]))
        account = Account(
            email=email,
            sub=sub,
            name=name,
            hosted_domain=hosted_domain,
            email_verified=email_verified,
            picture=picture,
        )
        with self._lock:
            self.accounts[email] = account
        return account

    def add_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        *,
        client_type: str = "web",
        redirect_uris: Iterable[str] = (),
    ) -> Client:
        """Register an OAuth client.

        :param client_id: default: a random ``....apps.googleusercontent.com`` id.
        :param client_secret: default: a random ``GOCSPX-...`` secret.
        :param client_type: ``"web"`` or ``"installed"`` (installed clients also
            accept any plain-http loopback redirect URI, on any port).
        :param redirect_uris: redirect URIs to register (exact match).
        :raises ValueError: for another client type.
        """
        if client_type not in {"web", "installed"}:
            raise ValueError("client_type must be 'web' or 'installed'")
        client = Client(
            client_id=client_id
            or f"{secrets.randbelow(10**12):012d}-fake.apps.googleusercontent.com",
            client_secret=client_secret or _random_token("GOCSPX-", 18),
            client_type=client_type,
            redirect_uris=list(redirect_uris),
        )
        with self._lock:
            self.clients[client.client_id] = client
        return client

    def register_redirect_uri(self, redirect_uri: str, *, client_id: str | None = None) -> None:
        """Register ``redirect_uri`` for a client (default: the default client)."""
        client = self._client(client_id)
        with self._lock:
            if redirect_uri not in client.redirect_uris:
                client.redirect_uris.append(redirect_uri)

    def client_config(
        self, redirect_uris: Iterable[str] | None = None, *, client_id: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Return Google's client-secrets mapping for a client, pointing at this fake.

        Call it after :meth:`start` when serving over HTTP: the URLs follow
        :attr:`endpoints`. ``redirect_uris`` are registered for the client first.

        :param redirect_uris: redirect URIs to register and list.
        :param client_id: which client; default: the default client.
        :returns: ``{"web": {...}}`` or ``{"installed": {...}}``.
        """
        client = self._client(client_id)
        for uri in redirect_uris or ():
            self.register_redirect_uri(uri, client_id=client.client_id)
        endpoints = self.endpoints
        return {
            client.client_type: {
                "client_id": client.client_id,
                "project_id": "fake-google-testing",
                "auth_uri": endpoints.authorization,
                "token_uri": endpoints.token,
                "auth_provider_x509_cert_url": endpoints.certs_pem,
                "client_secret": client.client_secret,
                "redirect_uris": list(client.redirect_uris),
            }
        }

    def _client(self, client_id: str | None) -> Client:
        client_id = client_id or self.default_client.client_id
        try:
            return self.clients[client_id]
        except KeyError:
            raise ValueError(f"no client {client_id!r} is registered with the fake") from None

    def _account(self, account: str | Account | None, hint: str | None = None) -> Account:
        if isinstance(account, Account):
            return account
        if account is None:
            # Like Google, login_hint may be the email or the sub.
            by_hint = {email.lower(): acc for email, acc in self.accounts.items()}
            by_hint.update((acc.sub, acc) for acc in self.accounts.values())
            return by_hint.get((hint or "").lower(), self.default_account)
        try:
            return self.accounts[account]
        except KeyError:
            raise ValueError(f"no account {account!r}: add it with add_account()") from None

    # -- signing keys ------------------------------------------------------------

    @property
    def signing_key(self) -> SigningKey:
        """The key ID tokens are signed with now."""
        with self._lock:
            return self._keys[0]

    @property
    def published_keys(self) -> tuple[SigningKey, ...]:
        """The keys the certs endpoints publish (current first)."""
        with self._lock:
            return tuple(self._keys)

    def rotate_key(self, *, keep_old: bool = True, new_key: SigningKey | None = None) -> SigningKey:
        """Start signing with a new key.

        :param keep_old: keep publishing the previous key (Google publishes two),
            so tokens signed before stay verifiable; ``False`` drops every old key.
        :param new_key: the key to use; default: the next key of the process-wide pool.
        :returns: the new signing key.
        """
        with self._lock:
            self._rotations += 1
            key = new_key or pooled_signing_key(self._rotations)
            self._keys = [key, self._keys[0]] if keep_old else [key]
            return key

    def certs_pem(self) -> dict[str, str]:
        """The ``{kid: PEM certificate}`` mapping of ``/oauth2/v1/certs``."""
        return {key.kid: key.certificate_pem for key in self.published_keys}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS of ``/oauth2/v3/certs``."""
        return {"keys": [dict(key.jwk) for key in self.published_keys]}

    def discovery_document(self) -> dict[str, Any]:
        """The OpenID discovery document."""
        endpoints = self.endpoints
        return {
            "issuer": endpoints.issuer,
            "authorization_endpoint": endpoints.authorization,
            "token_endpoint": endpoints.token,
            "userinfo_endpoint": endpoints.userinfo,
            "revocation_endpoint": endpoints.revocation,
            "jwks_uri": endpoints.jwks,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": list(_CLAIMS_SUPPORTED),
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "authorization_response_iss_parameter_supported": True,
        }

    # -- authorization -----------------------------------------------------------

    def parse_authorization_request(self, params: dict[str, str]) -> AuthorizationRequest:
        """Validate authorization-request parameters as the HTTP endpoint does.

        :raises AuthorizationRequestError: if Google would refuse the request.
        """
        with self._lock:
            clients = dict(self.clients)
        return parse_authorization_request(params, clients, self.issuer)

    def approve(
        self,
        authorization_url: str,
        account: str | Account | None = None,
        granted_scopes: Iterable[str] | None = None,
    ) -> str:
        """Approve an authorization request as a user would, without HTML.

        The request goes through the same validation as the HTTP endpoint.

        :param authorization_url: the URL the app redirected the browser to.
        :param account: the email (or :class:`Account`) signing in; default: the
            ``login_hint`` account if known, else ``default_account``.
        :param granted_scopes: a subset of the requested scopes to grant
            (partial consent); default: all of them.
        :returns: the callback URL ``redirect_uri?code=...&state=...&iss=...``.
        :raises AuthorizationRequestError: if Google would refuse the request
            (``redirect_url`` holds the error callback when Google would redirect).
        :raises ValueError: if the URL is not this fake's authorization endpoint,
            the account is unknown or ``granted_scopes`` were not requested.
        """
        request = self._request_from_url(authorization_url)
        chosen = self._account(account, request.login_hint)
        scopes = request.scopes if granted_scopes is None else canonical_scopes(granted_scopes)
        extra = set(scopes) - set(request.scopes)
        if extra:
            raise ValueError(f"cannot grant scopes that were not requested: {sorted(extra)}")
        if not scopes:
            raise ValueError("grant at least one scope, or use deny()")
        if "none" in request.prompts and not self._has_grant(request, chosen):
            raise self._prompt_none_refusal(request)
        return self.complete_authorization(request, chosen, scopes)

    def deny(self, authorization_url: str) -> str:
        """Decline an authorization request as a user pressing Cancel would.

        :returns: the callback URL ``redirect_uri?error=access_denied&state=...&iss=...``.
        :raises AuthorizationRequestError: if Google would refuse the request.
        :raises ValueError: if the URL is not this fake's authorization endpoint.
        """
        return self.denial_url(self._request_from_url(authorization_url))

    def _request_from_url(self, authorization_url: str) -> AuthorizationRequest:
        parts = urlsplit(authorization_url)
        endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}"
        if endpoint not in self.endpoints.authorization_urls():
            raise ValueError(
                f"{endpoint} is not this fake's authorization endpoint "
                f"({self.endpoints.authorization}); is the app configured for it?"
            )
        return self.parse_authorization_request(dict(parse_qsl(parts.query)))

    def denial_url(self, request: AuthorizationRequest) -> str:
        """The ``error=access_denied`` callback URL for ``request``."""
        return add_query(
            request.redirect_uri,
            {"error": "access_denied", "state": request.state, "iss": self.issuer},
        )

    def granted_scopes(self, client_id: str, account: str | Account) -> frozenset[str]:
        """The scopes *account* has granted to the client so far (canonical names).

        :param client_id: the client's id.
        :param account: the account's email, or the :class:`Account`.
        :returns: the granted scopes; empty for an unknown account or no grant.
        """
        if isinstance(account, str):
            known = self.accounts.get(account)
            if known is None:
                return frozenset()
            account = known
        with self._lock:
            return frozenset(self._grants.get((client_id, account.sub), set()))

    def _has_grant(self, request: AuthorizationRequest, account: Account) -> bool:
        with self._lock:
            granted = self._grants.get((request.client.client_id, account.sub), set())
            return set(request.scopes) <= granted

    def _prompt_none_refusal(self, request: AuthorizationRequest) -> AuthorizationRequestError:
        description = "The user has not granted the requested scopes to this client."
        url = add_query(
            request.redirect_uri,
            {
                "error": "consent_required",
                "error_description": description,
                "state": request.state,
                "iss": self.issuer,
            },
        )
        return AuthorizationRequestError("consent_required", description, url)

    def silent_authorization(self, request: AuthorizationRequest) -> str:
        """Answer ``prompt=none`` (or a non-interactive fake): approve or refuse at once."""
        account = self._account(None, request.login_hint)
        if "none" in request.prompts and not self._has_grant(request, account):
            error = self._prompt_none_refusal(request)
            assert error.redirect_url is not None
            return error.redirect_url
        return self.complete_authorization(request, account, request.scopes)

    def complete_authorization(
        self, request: AuthorizationRequest, account: Account, scopes: tuple[str, ...]
    ) -> str:
        """Issue a code for ``account`` granting ``scopes``; return the callback URL."""
        key = (request.client.client_id, account.sub)
        now = self.clock()
        with self._lock:
            granted = set(scopes)
            if request.include_granted_scopes:
                granted |= self._grants.get(key, set())
            self._grants.setdefault(key, set()).update(granted)
            offline = request.offline and (
                self.refresh_token_on_every_consent
                or "consent" in request.prompts
                or key not in self._offline_grants
            )
            if request.offline:
                self._offline_grants.add(key)
            ordered = tuple(s for s in request.scopes if s in granted)
            ordered += tuple(sorted(granted - set(ordered)))
            code = AuthorizationCode(
                code=_random_token("4/0", 40),
                client_id=request.client.client_id,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                sub=account.sub,
                scopes=ordered,
                nonce=request.nonce,
                issue_refresh_token=offline,
                expires_at=now + self.code_lifetime,
                auth_time=now,
            )
            self._codes[code.code] = code
        return add_query(
            request.redirect_uri,
            {
                "code": code.code,
                "state": request.state,
                "iss": self.issuer,
                "scope": reported_scope(ordered, expand_aliases=self.expand_scope_aliases),
            },
        )

    # -- token endpoint rules ----------------------------------------------------

    def authenticate_client(
        self, basic: tuple[str, str] | None, form_id: str | None, form_secret: str | None
    ) -> Client:
        """Authenticate a client by HTTP Basic *or* form fields (``client_secret_post``).

        :raises OAuthError: ``invalid_request`` for two methods at once,
            ``invalid_client`` (401) for an unknown client or a wrong/missing secret.
        """
        if basic is not None:
            if basic[0] not in self.clients:
                # RFC 6749 §2.3.1 form-encodes the Basic credentials; most clients don't.
                basic = (unquote_plus(basic[0]), unquote_plus(basic[1]))
            if form_secret is not None or (form_id is not None and form_id != basic[0]):
                raise OAuthError("invalid_request", "Use one client authentication method.")
            client_id, secret = basic
        else:
            client_id, secret = form_id, form_secret
        with self._lock:
            client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if secret is None or not hmac.compare_digest(
            secret.encode("utf-8"), client.client_secret.encode("utf-8")
        ):
            raise OAuthError("invalid_client", "Unauthorized", 401)
        return client

    def exchange_code(
        self, client: Client, code: str | None, redirect_uri: str | None, code_verifier: str | None
    ) -> dict[str, Any]:
        """The ``authorization_code`` grant.

        :raises OAuthError: ``invalid_grant`` for an unknown, expired, replayed
            (tokens issued from it are revoked) or foreign code or a wrong
            verifier; ``redirect_uri_mismatch`` for another redirect URI.
        """
        if not code:
            raise OAuthError("invalid_request", "Missing required parameter: code")
        with self._lock:
            record = self._codes.get(code)
            if record is None:
                raise OAuthError("invalid_grant", "Malformed auth code.")
            if record.used:
                for token in record.issued_tokens:
                    self._revoke(token)
                raise OAuthError("invalid_grant", "Bad Request")
            if record.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Bad Request")
            if self.clock() >= record.expires_at:
                raise OAuthError("invalid_grant", "Bad Request")
            if redirect_uri != record.redirect_uri:
                raise OAuthError("redirect_uri_mismatch", "Bad Request")
            if not code_verifier:
                raise OAuthError("invalid_grant", "Missing code verifier.")
            if not _VERIFIER.match(code_verifier) or not hmac.compare_digest(
                s256_challenge(code_verifier), record.code_challenge
            ):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
            record.used = True
            account = self._account_by_sub(record.sub)
            refresh = None
            if record.issue_refresh_token:
                refresh = RefreshToken(
                    token=_random_token("1//0", 48),
                    client_id=client.client_id,
                    sub=record.sub,
                    scopes=record.scopes,
                )
                self._refresh_tokens[refresh.token] = refresh
                record.issued_tokens.append(refresh.token)
            response = self._issue(client, account, record.scopes, refresh, record.nonce)
            record.issued_tokens.append(response["access_token"])
            if refresh is not None:
                response["refresh_token"] = refresh.token
            return response

    def refresh(
        self, client: Client, refresh_token: str | None, scope: str | None
    ) -> dict[str, Any]:
        """The ``refresh_token`` grant (``scope`` may narrow, never widen, the grant).

        :raises OAuthError: ``invalid_grant`` for an unknown, revoked or foreign
            refresh token, ``invalid_scope`` for scopes never granted.
        """
        if not refresh_token:
            raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
        with self._lock:
            record = self._refresh_tokens.get(refresh_token)
            if record is None or record.revoked or record.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Token has been expired or revoked.")
            scopes = record.scopes
            if scope:
                asked = canonical_scopes(scope)
                if not set(asked) <= set(record.scopes):
                    raise OAuthError("invalid_scope", "Scopes were not granted to this token.")
                scopes = asked
            account = self._account_by_sub(record.sub)
            if self.rotate_refresh_tokens:
                record.revoked = True
                new = RefreshToken(
                    token=_random_token("1//0", 48),
                    client_id=record.client_id,
                    sub=record.sub,
                    scopes=record.scopes,
                )
                self._refresh_tokens[new.token] = new
                response = self._issue(client, account, scopes, new, None)
                response["refresh_token"] = new.token
                return response
            return self._issue(client, account, scopes, record, None)

    def _account_by_sub(self, sub: str) -> Account:
        for account in self.accounts.values():
            if account.sub == sub:
                return account
        raise OAuthError("invalid_grant", "Account has been deleted.")

    def _issue(
        self,
        client: Client,
        account: Account,
        scopes: tuple[str, ...],
        refresh: RefreshToken | None,
        nonce: str | None,
    ) -> dict[str, Any]:
        now = self.clock()
        access = AccessToken(
            token=_random_token("ya29.a0", 60),
            client_id=client.client_id,
            sub=account.sub,
            scopes=scopes,
            expires_at=now + self.access_token_lifetime,
            refresh_token=refresh.token if refresh else None,
        )
        self._access_tokens[access.token] = access
        if refresh is not None:
            refresh.access_tokens.append(access.token)
        response: dict[str, Any] = {
            "access_token": access.token,
            "expires_in": self.access_token_lifetime,
            "scope": reported_scope(scopes, expand_aliases=self.expand_scope_aliases),
            "token_type": "Bearer",
        }
        if "openid" in scopes:
            response["id_token"] = self.id_token(
                account, client.client_id, scopes, nonce=nonce, access_token=access.token
            )
        return response

    # -- ID tokens -----------------------------------------------------------------

    def id_token_claims(
        self,
        account: Account,
        audience: str,
        scopes: Iterable[str] = ("openid", "email", "profile"),
        *,
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """The claims of an ID token as Google shapes them (no tampering applied)."""
        now = int(self.clock())
        claims: dict[str, Any] = {"iss": self.issuer, "azp": audience, "aud": audience}
        claims.update(account.claims(canonical_scopes(scopes)))
        if access_token:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["at_hash"] = b64url(digest[:16])
        if nonce is not None:
            claims["nonce"] = nonce
        claims["iat"] = now
        claims["exp"] = now + self.id_token_lifetime
        return claims

    def id_token(
        self,
        account: Account,
        audience: str,
        scopes: Iterable[str] = ("openid", "email", "profile"),
        *,
        nonce: str | None = None,
        access_token: str | None = None,
    ) -> str:
        """Return a signed ID token, with any scripted tampering (:meth:`tamper_id_token`)."""
        claims = self.id_token_claims(
            account, audience, scopes, nonce=nonce, access_token=access_token
        )
        tampers = {kind for kind in ID_TOKEN_TAMPERS if self._tampers.take(kind)}
        if "wrong_aud" in tampers:
            claims["aud"] = claims["azp"] = "someone-else.apps.googleusercontent.com"
        if "wrong_iss" in tampers:
            claims["iss"] = "https://evil.example.com"
        if "expired" in tampers:
            claims["iat"] -= 2 * self.id_token_lifetime
            claims["exp"] = claims["iat"] + self.id_token_lifetime
        if "wrong_nonce" in tampers:
            claims["nonce"] = "not-the-nonce-you-sent"
        if "wrong_hd" in tampers:
            claims["hd"] = "evil.example.com"
        if "alg_none" in tampers:
            return unsigned_jwt(claims)
        key = self.signing_key
        token = key.sign_jwt(claims, kid="unknown-kid" if "unknown_kid" in tampers else None)
        if "bad_signature" in tampers:
            head, payload, signature = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[len(raw) // 2] ^= 0xFF
            token = f"{head}.{payload}.{b64url(bytes(raw))}"
        return token

    def gsi_credential(
        self,
        account: str | Account | None = None,
        *,
        nonce: str | None = None,
        client_id: str | None = None,
    ) -> str:
        """An ID token as Google Identity Services posts it (the ``credential`` field).

        Signed with the fake's key, ``aud``/``azp`` = the client id, ``iss`` =
        :attr:`issuer`, the ``openid email profile`` claims, ``nonce`` when
        given; scripted tampering (:meth:`tamper_id_token`) applies.

        :param account: an email (added if unknown) or :class:`Account`;
            default: the default account.
        :param nonce: the page's ``data-nonce``.
        :param client_id: default: the default client's id.
        """
        if isinstance(account, str) and account not in self.accounts:
            self.add_account(account)
        audience = self._client(client_id).client_id
        return self.id_token(self._account(account), audience, nonce=nonce)

    @property
    def gsi_script_url(self) -> str:
        """URL of the stand-in GIS client script (``GOOGLE_FLOW_GSI_SCRIPT_URL``).

        Served by the running server's browser-facing (plain-http) listener;
        without a server, Google's real script URL.
        """
        front = self.front_channel_url
        return f"{front}/gsi/client" if front else "https://accounts.google.com/gsi/client"

    def risc_event(self, event_type: str, **options: Any) -> str:
        """A signed Cross-Account Protection SET (see :meth:`._risc.FakeRisc.event`).

        ``fake.risc_event("sessions-revoked", sub=account.sub)`` returns the
        token to POST to the app's ``/risc``; ``push_to=url`` also sends it.
        """
        return self.risc.event(event_type, **options)

    # -- userinfo and revocation ---------------------------------------------------

    def userinfo(self, access_token: str | None) -> dict[str, Any]:
        """Claims for a valid access token, per its scopes.

        :raises OAuthError: 401 ``invalid_token`` for an unknown, expired or revoked token.
        """
        with self._lock:
            record = self._access_tokens.get(access_token or "")
            if record is None or record.revoked or self.clock() >= record.expires_at:
                raise OAuthError("invalid_token", "Invalid Credentials", 401)
            return self._account_by_sub(record.sub).claims(record.scopes)

    def access_token_is_valid(self, access_token: str) -> bool:
        """Whether ``access_token`` is known, unexpired and unrevoked."""
        with self._lock:
            record = self._access_tokens.get(access_token)
            return bool(record and not record.revoked and self.clock() < record.expires_at)

    def revoke_token(self, token: str) -> None:
        """Revoke an access or refresh token, as the revoke endpoint does.

        Revoking either revokes the whole grant: the refresh token, every access
        token issued from it, and the account's consent to the client (the next
        offline consent issues a new refresh token again).

        :raises OAuthError: ``invalid_token`` for an unknown or already revoked token.
        """
        with self._lock:
            access = self._access_tokens.get(token)
            refresh = self._refresh_tokens.get(token)
            live_access = access and not access.revoked and self.clock() < access.expires_at
            live_refresh = refresh and not refresh.revoked
            if not (live_access or live_refresh):
                raise OAuthError("invalid_token", "Token expired or revoked")
            self._revoke(token)

    def _revoke(self, token: str) -> None:
        access = self._access_tokens.get(token)
        if access is not None:
            access.revoked = True
            if access.refresh_token:
                self._revoke(access.refresh_token)
            return
        refresh = self._refresh_tokens.get(token)
        if refresh is not None:
            refresh.revoked = True
            for access_token in refresh.access_tokens:
                self._access_tokens[access_token].revoked = True
            key = (refresh.client_id, refresh.sub)
            self._grants.pop(key, None)
            self._offline_grants.discard(key)

    def revoke_all_tokens(self) -> None:
        """Revoke every issued token and forget every consent (e.g. "user removed the app")."""
        with self._lock:
            for record in self._access_tokens.values():
                record.revoked = True
            for refresh in self._refresh_tokens.values():
                refresh.revoked = True
            self._grants.clear()
            self._offline_grants.clear()

    # -- failure hooks -----------------------------------------------------------------

    def fail(
        self,
        endpoint: str,
        kind: str,
        *,
        times: int | None = 1,
        status: int = 503,
        delay: float = 5.0,
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` fail (``None``: until cleared).

        Kinds for every endpoint: ``"server_error"`` (``status``, default 503),
        ``"timeout"`` / ``"connect_timeout"`` (in-process: ``requests`` raises
        ``ReadTimeout`` / ``ConnectTimeout``; a real server sleeps ``delay``
        seconds, at most 60, then answers 504), ``"not_json"`` (200 with HTML).
        Token endpoint only: ``"missing_access_token"`` (200 JSON without it),
        ``"mac_token_type"`` (200 JSON with ``token_type: mac``). A failed
        request has no side effect (a code stays unused).

        :param endpoint: ``token``, ``certs``, ``userinfo``, ``revoke`` or ``discovery``.
        :raises ValueError: for an unknown endpoint or kind.
        """
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}")
        allowed = GENERIC_FAILURES + (TOKEN_FAILURES if endpoint == "token" else ())
        if kind not in allowed:
            raise ValueError(f"failure kind for {endpoint} must be one of {allowed}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1, or None for 'until cleared'")
        hook = ScriptedFailure(kind, times, status, min(delay, _MAX_TIMEOUT_DELAY))
        self._failures.set(endpoint, hook)

    def fail_token(self, kind: str, *, times: int | None = 1, **options: Any) -> None:
        """Shorthand for ``fail("token", kind, ...)``."""
        self.fail("token", kind, times=times, **options)

    def take_failure(self, endpoint: str) -> ScriptedFailure | None:
        """Consume one use of the failure scripted for ``endpoint`` (used by the WSGI app)."""
        return self._failures.take(endpoint)

    def tamper_id_token(self, *kinds: str, times: int | None = 1) -> None:
        """Tamper with the next ``times`` ID tokens issued (``None``: until cleared).

        Kinds (combinable): ``wrong_aud``, ``wrong_iss``, ``expired``, ``wrong_nonce``,
        ``bad_signature``, ``alg_none``, ``wrong_hd``, ``unknown_kid`` (header
        ``kid`` not published).

        :raises ValueError: for an unknown kind.
        """
        unknown = set(kinds) - set(ID_TOKEN_TAMPERS)
        if unknown or not kinds:
            raise ValueError(f"tamper kinds must be some of {ID_TOKEN_TAMPERS}")
        for kind in kinds:
            self._tampers.set(kind, ScriptedFailure(kind, times))

    def clear_failures(self) -> None:
        """Remove every scripted endpoint failure and ID-token tampering."""
        self._failures.clear()
        self._tampers.clear()

    def reset_counts(self) -> None:
        """Zero :attr:`request_counts`."""
        with self._lock:
            self.request_counts.clear()

    def count_request(self, endpoint: str) -> None:
        """Count one request to ``endpoint`` (used by the WSGI app)."""
        with self._lock:
            self.request_counts[endpoint] += 1

    def wait_or_wake(self, seconds: float) -> None:
        """Sleep up to ``seconds``; :meth:`stop` wakes sleepers early."""
        self._wake.wait(seconds)

    # -- the two ways to run -------------------------------------------------------

    @contextlib.contextmanager
    def intercept(
        self,
        mock: responses.RequestsMock | None = None,
        *,
        allow_network: Iterable[str] = (),
    ) -> Iterator[responses.RequestsMock]:
        """Answer ``requests`` calls to the fake's endpoints in-process, via ``responses``.

        Standalone, a new ``responses.RequestsMock`` is started for the block,
        and a request to any other URL raises ``requests.ConnectionError`` (no
        accidental network). Pass your own active mock (e.g. ``responses.mock``
        under ``@responses.activate``) to add the fake's endpoints to it; they
        are removed again when the block ends.

        :param mock: an existing ``responses.RequestsMock`` to register onto.
        :param allow_network: URL prefixes that may reach the real network
            (``add_passthru``), for a new mock only.
        :returns: a context manager yielding the mock in use.
        """
        from ._responses import intercept

        with intercept(self, mock, allow_network=tuple(allow_network)) as active:
            yield active

    def start(
        self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True, tls_port: int = 0
    ) -> str:
        """Serve the fake over HTTP in background threads, on two loopback ports.

        * ``http://<host>:<port>`` (:attr:`front_channel_url`): the
          authorization/consent page, for browsers — plain http on loopback,
          so no certificate warning;
        * ``https://<host>:<tls_port>`` (:attr:`back_channel_url`, the issuer
          and :attr:`base_url`): token, certs, userinfo, revoke and discovery,
          with a certificate of the throw-away CA in :attr:`ca_bundle`.

        Each listener answers its own endpoints only (others: 404 saying
        where they live). :meth:`client_config` and :meth:`discovery_document`
        give these URLs.

        :param host: the address to bind (loopback by default; the
            certificate covers ``127.0.0.1``, ``::1`` and ``localhost``).
        :param port: the front channel's port; ``0`` picks a free one.
        :param quiet: do not log each request.
        :param tls_port: the back channel's port; ``0`` picks a free one.
        :returns: the base URL (the back channel's, the issuer).
        :raises RuntimeError: if it is already running.
        :raises OSError: a port cannot be bound.
        """
        from ._server import BackgroundServer
        from ._tls import throwaway_tls
        from ._wsgi import FakeGoogleApp

        with self._lock:
            if self._servers is not None:
                raise RuntimeError("the fake Google server is already running")
            self._wake.clear()
            tls = throwaway_tls().server_context()
            front = BackgroundServer(FakeGoogleApp(self, "front"), host, port, quiet=quiet)
            front.start()
            try:
                back = BackgroundServer(
                    FakeGoogleApp(self, "back"), host, tls_port, quiet=quiet, tls=tls
                )
            except BaseException:
                front.stop()
                raise
            back.start()
            self._servers = (front, back)
            return back.base_url

    def stop(self) -> None:
        """Stop the background servers and free their ports (no-op if not running)."""
        with self._lock:
            servers, self._servers = self._servers, None
        if servers is not None:
            self._wake.set()
            for server in servers:
                server.stop()

    @property
    def is_running(self) -> bool:
        """Whether the background HTTP servers are running."""
        return self._servers is not None

    @contextlib.contextmanager
    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True, tls_port: int = 0
    ) -> Iterator[str]:
        """Context manager around :meth:`start` / :meth:`stop`; yields the base URL (issuer)."""
        base_url = self.start(host, port, quiet=quiet, tls_port=tls_port)
        try:
            yield base_url
        finally:
            self.stop()
