"""The fake Google's HTTP layer: one WSGI app (werkzeug) for both ways of running it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import _gsi
from ._authorization import AuthorizationRequestError
from ._consent_page import render_consent_page, render_error_page
from ._endpoints import (
    AUTHORIZATION_PATHS,
    CERTS_PEM_PATH,
    DISCOVERY_PATH,
    JWKS_PATH,
    REVOCATION_PATHS,
    TOKEN_PATHS,
    USERINFO_PATHS,
)
from ._failures import SimulatedTimeout
from ._gsi import GSI_ACCOUNTS_PATH, GSI_CLIENT_PATH, GSI_CREDENTIAL_PATH
from ._model import OAuthError, canonical_scopes

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .fake_google import FakeGoogle

#: WSGI environ key the in-process adapter sets, so timeouts raise instead of sleeping.
IN_PROCESS_ENVIRON_KEY = "flask_google_flow.testing.in_process"

#: The endpoints a browser visits (served over plain http on loopback in server mode).
#: What a browser visits: the consent page and the stand-in GIS script with its calls.
FRONT_CHANNEL = frozenset({"authorize", "gsi_client", "gsi_accounts", "gsi_credential"})
CHANNELS = ("all", "front", "back")


def _rules(endpoint: str, paths: Iterable[str], methods: list[str]) -> list[Rule]:
    return [Rule(path, endpoint=endpoint, methods=methods) for path in paths]


def _json(body: Any, status: int = 200, **headers: str) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    response.headers["Pragma"] = "no-cache"
    return response


class FakeGoogleApp:
    """WSGI application answering every endpoint of a :class:`FakeGoogle`.

    Routing is by path only, so it serves Google's several hosts in-process
    and one base URL as a real server alike.

    :param fake: the fake whose state and rules it serves.
    :param channel: ``"all"`` (in-process), ``"front"`` (the browser's
        authorization endpoint only) or ``"back"`` (everything else: token,
        certs, userinfo, revoke, discovery); a request for an endpoint of the
        other channel gets a 404 naming where that endpoint lives.
    """

    def __init__(self, fake: FakeGoogle, channel: str = "all") -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}")
        self.fake = fake
        self.channel = channel
        self.url_map = Map(
            [
                Rule(DISCOVERY_PATH, endpoint="discovery", methods=["GET"]),
                *_rules("authorize", AUTHORIZATION_PATHS, ["GET", "POST"]),
                *_rules("token", TOKEN_PATHS, ["POST"]),
                *_rules("revoke", REVOCATION_PATHS, ["GET", "POST"]),
                *_rules("userinfo", USERINFO_PATHS, ["GET", "POST"]),
                Rule(CERTS_PEM_PATH, endpoint="certs_pem", methods=["GET"]),
                Rule(JWKS_PATH, endpoint="jwks", methods=["GET"]),
                Rule(GSI_CLIENT_PATH, endpoint="gsi_client", methods=["GET"]),
                Rule(GSI_ACCOUNTS_PATH, endpoint="gsi_accounts", methods=["GET"]),
                Rule(GSI_CREDENTIAL_PATH, endpoint="gsi_credential", methods=["POST"]),
                *fake.risc.rules(),
            ]
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request."""
        request = Request(environ)
        try:
            endpoint, _ = self.url_map.bind_to_environ(environ).match()
        except MethodNotAllowed as exc:
            self.fake.count_request("other")
            return exc(environ, start_response)
        except HTTPException as exc:
            self.fake.count_request("other")
            return exc(environ, start_response)
        if self.channel != "all" and (endpoint in FRONT_CHANNEL) != (self.channel == "front"):
            self.fake.count_request("other")
            return self._wrong_channel(endpoint)(environ, start_response)
        counted = "certs" if endpoint in {"certs_pem", "jwks"} else endpoint
        if endpoint.startswith("gsi_"):
            self.fake.count_request("gsi")
            return getattr(_gsi, endpoint[4:])(self.fake, request)(environ, start_response)
        self.fake.count_request(counted)
        failure = self._scripted_failure(counted, environ)
        if endpoint.startswith("risc_"):
            return self.fake.risc.respond(endpoint, request)(environ, start_response)
        response = failure or getattr(self, f"_{endpoint}")(request)
        return response(environ, start_response)

    def _wrong_channel(self, endpoint: str) -> Response:
        endpoints = self.fake.endpoints
        if self.channel == "front":
            text = (
                f"This is the fake Google's browser-facing listener; {endpoint} is served "
                f"over https under {endpoints.issuer} (discovery: {endpoints.discovery})."
            )
        else:
            text = (
                "This is the fake Google's https back channel; sign-in pages are served "
                f"over plain http at {endpoints.authorization}."
            )
        return _no_store(Response(text + "\n", status=404, mimetype="text/plain"))

    # -- scripted failures -----------------------------------------------------------

    def _scripted_failure(self, endpoint: str, environ: WSGIEnvironment) -> Response | None:
        if endpoint == "authorize":
            return None
        failure = self.fake.take_failure(endpoint)
        if failure is None:
            return None
        if failure.kind in {"timeout", "connect_timeout"}:
            if environ.get(IN_PROCESS_ENVIRON_KEY):
                raise SimulatedTimeout(connect=failure.kind == "connect_timeout")
            self.fake.wait_or_wake(failure.delay)
            return _json({"error": "deadline_exceeded"}, 504)
        if failure.kind == "server_error":
            body = {"error": "internal_failure", "error_description": "Backend Error"}
            return _no_store(_json(body, failure.status))
        if failure.kind == "not_json":
            html = "<html><body><h1>Fake Google: an HTML error page</h1></body></html>"
            return Response(html, status=200, mimetype="text/html")
        if failure.kind == "missing_access_token":
            return _no_store(_json({"token_type": "Bearer", "expires_in": 3599}))
        body = {"access_token": "ya29.mac-token", "token_type": "mac", "expires_in": 3599}
        return _no_store(_json(body))

    # -- endpoints -------------------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        return _json(
            self.fake.discovery_document(),
            **{"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
        )

    def _certs_headers(self) -> dict[str, str]:
        now = self.fake.clock()
        max_age = self.fake.certs_max_age
        return {
            "Cache-Control": f"public, max-age={max_age}, must-revalidate, no-transform",
            "Date": formatdate(now, usegmt=True),
            "Expires": formatdate(now + max_age, usegmt=True),
        }

    def _certs_pem(self, request: Request) -> Response:
        return _json(self.fake.certs_pem(), **self._certs_headers())

    def _jwks(self, request: Request) -> Response:
        return _json(self.fake.jwks(), **self._certs_headers())

    def _authorize(self, request: Request) -> Response:
        params = request.form if request.method == "POST" else request.args
        try:
            auth_request = self.fake.parse_authorization_request(params.to_dict())
        except AuthorizationRequestError as exc:
            return self._refusal(exc)
        if request.method == "GET":
            if "none" in auth_request.prompts or not self.fake.interactive:
                return self._redirect(self.fake.silent_authorization(auth_request))
            page = render_consent_page(
                auth_request,
                list(self.fake.accounts.values()),
                request.base_url,
                granted=lambda account: self.fake.granted_scopes(
                    auth_request.client.client_id, account
                ),
            )
            response = Response(page, mimetype="text/html")
            response.headers["X-Frame-Options"] = "DENY"
            return _no_store(response)
        if request.form.get("decision") != "allow":
            return self._redirect(self.fake.denial_url(auth_request))
        account = self.fake.accounts.get(request.form.get("account", ""))
        if account is None:
            return self._error_page("invalid_request", "Choose an account.")
        chosen = set(canonical_scopes(request.form.getlist("granted_scope")))
        granted = tuple(scope for scope in auth_request.scopes if scope in chosen)
        if not granted:
            return self._redirect(self.fake.denial_url(auth_request))
        return self._redirect(self.fake.complete_authorization(auth_request, account, granted))

    def _refusal(self, error: AuthorizationRequestError) -> Response:
        if error.redirect_url is not None:
            return self._redirect(error.redirect_url)
        return self._error_page(error.error, error.description)

    @staticmethod
    def _error_page(error: str, description: str) -> Response:
        return _no_store(Response(render_error_page(error, description), 400, mimetype="text/html"))

    @staticmethod
    def _redirect(url: str) -> Response:
        response = Response("", status=302)
        response.headers["Location"] = url
        return _no_store(response)

    def _token(self, request: Request) -> Response:
        form = request.form
        basic = None
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            basic = (auth.username or "", auth.password or "")
        try:
            client = self.fake.authenticate_client(
                basic, form.get("client_id"), form.get("client_secret")
            )
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                body = self.fake.exchange_code(
                    client, form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
                )
            elif grant_type == "refresh_token":
                body = self.fake.refresh(client, form.get("refresh_token"), form.get("scope"))
            elif not grant_type:
                raise OAuthError("invalid_request", "Missing required parameter: grant_type")
            else:
                raise OAuthError("unsupported_grant_type", "Invalid grant_type: " + grant_type)
        except OAuthError as exc:
            response = _json({"error": exc.error, "error_description": exc.description}, exc.status)
            if exc.status == 401 and basic is not None:
                response.headers["WWW-Authenticate"] = 'Basic realm="fake-google"'
            return _no_store(response)
        return _no_store(_json(body))

    def _userinfo(self, request: Request) -> Response:
        auth = request.authorization
        token = auth.token if auth is not None and auth.type == "bearer" else None
        token = token or request.values.get("access_token")
        try:
            return _no_store(_json(self.fake.userinfo(token)))
        except OAuthError as exc:
            body = {"error": "invalid_request", "error_description": exc.description}
            response = _json(body, 401)
            response.headers["WWW-Authenticate"] = (
                'Bearer realm="fake-google", error="invalid_token"'
            )
            return _no_store(response)

    def _revoke(self, request: Request) -> Response:
        token = request.values.get("token")
        try:
            if not token:
                raise OAuthError("invalid_request", "Missing required parameter: token")
            self.fake.revoke_token(token)
        except OAuthError as exc:
            body = {"error": exc.error, "error_description": exc.description}
            return _no_store(_json(body, exc.status))
        return _no_store(_json({}))
