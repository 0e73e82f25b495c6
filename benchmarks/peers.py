"""The peers of ``login_bench.py``: the libraries a Flask developer would otherwise pick.

Each ``make_*`` function builds a Flask app with ``GET /authorize`` and
``GET /oauth2callback`` wired the way that library's documentation shows,
pointed at the benchmark's mock provider and on the benchmark's session
backend. Nothing here is tuned for speed: the point is to measure what a
developer gets by following each library's documented path.

The optional packages are imported inside the functions, so this module
imports without them; :func:`missing_package` tells which one is absent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SCOPES = ["openid", "email", "profile"]


@dataclass(frozen=True)
class PeerEnv:
    """What the peers share with the benchmark (it builds one and passes it in)."""

    client_id: str
    client_secret: str
    auth_url: str
    issuer: str
    token_url: str
    certs_url: str
    #: ``(app, directory)``: the benchmark's Flask-Session + cachelib backend.
    setup_session: Callable[[object, Path], None]


@dataclass(frozen=True)
class Peer:
    """One peer: how to build it and what it does, for the printed notes."""

    name: str
    module: str  # imported to decide whether the peer can run
    distribution: str  # its name on PyPI, for the printed versions
    make: Callable[[PeerEnv, Path, str], object]  # (env, directory, redirect_uri) -> app
    #: ``True`` when requests-oauthlib parses the callback URL, which it refuses
    #: over plain http: the peer then runs on https://localhost.
    https_callback: bool
    pkce: bool  # sends a PKCE challenge (the benchmark checks the authorization URL)
    nonce: bool  # sends a nonce (likewise)
    verifies_id_token: bool
    rotates_session: bool  # a new session id after login (session fixation)
    does: str  # for the printed notes


def missing_package(peer: Peer) -> str | None:
    """The name of the peer's package if it does not import, else ``None``."""
    try:
        importlib.import_module(peer.module)
    except ImportError:
        return peer.module
    return None


def make_authlib(env: PeerEnv, directory: Path, redirect_uri: str):
    """Authlib's Flask client registered for the mock as an OpenID Connect provider."""
    from authlib.integrations.flask_client import OAuth
    from flask import Flask, redirect, session

    app = Flask("authlib")
    app.config["SECRET_KEY"] = "bench-secret-key"
    env.setup_session(app, directory / "sessions-authlib")
    oauth = OAuth(app)
    # Without a discovery document, the provider metadata Authlib would read
    # from it (jwks_uri, issuer) is given as extra keyword arguments.
    oauth.register(
        "mock",
        client_id=env.client_id,
        client_secret=env.client_secret,
        authorize_url=env.auth_url,
        access_token_url=env.token_url,
        jwks_uri=env.certs_url,
        issuer=env.issuer,
        client_kwargs={"scope": " ".join(SCOPES), "code_challenge_method": "S256"},
    )

    @app.get("/authorize")
    def authorize():
        return oauth.mock.authorize_redirect(redirect_uri)

    @app.get("/oauth2callback")
    def callback():
        token = oauth.mock.authorize_access_token()  # verifies the ID token + nonce
        session["user"] = dict(token["userinfo"])
        return redirect("/")

    return app


def make_flask_dance(env: PeerEnv, directory: Path, redirect_uri: str):
    """Flask-Dance's OAuth 2 consumer blueprint, set up like its Google blueprint.

    ``make_google_blueprint`` has Google's endpoints built in and no PKCE
    switch, so the generic blueprint it wraps is used, pointed at the mock.
    The redirect URI is ``url_for(".authorized", _external=True)``: Flask-Dance
    derives it from the request, so ``redirect_uri`` only tells the test
    client's base URL.
    """
    from flask import Flask
    from flask_dance.consumer import OAuth2ConsumerBlueprint

    del redirect_uri
    app = Flask("flask-dance")
    app.config["SECRET_KEY"] = "bench-secret-key"
    env.setup_session(app, directory / "sessions-flask-dance")
    blueprint = OAuth2ConsumerBlueprint(
        "google",
        __name__,
        client_id=env.client_id,
        client_secret=env.client_secret,
        scope=SCOPES,
        authorization_url=env.auth_url,
        token_url=env.token_url,
        login_url="/authorize",
        authorized_url="/oauth2callback",
        redirect_url="/",
        use_pkce=True,
    )
    app.register_blueprint(blueprint)  # default storage: the token in the Flask session
    return app


def make_google_sample(env: PeerEnv, directory: Path, redirect_uri: str):
    """Google's web-server-app Flask sample on ``google_auth_oauthlib.flow.Flow``."""
    from flask import Flask, redirect, request, session
    from google_auth_oauthlib.flow import Flow

    app = Flask("google-sample")
    app.config["SECRET_KEY"] = "bench-secret-key"
    env.setup_session(app, directory / "sessions-google-sample")
    client_config = {
        "web": {
            "client_id": env.client_id,
            "client_secret": env.client_secret,
            "auth_uri": env.auth_url,
            "token_uri": env.token_url,
            "redirect_uris": [redirect_uri],
        }
    }

    @app.get("/authorize")
    def authorize():
        flow = Flow.from_client_config(client_config, scopes=SCOPES)
        flow.redirect_uri = redirect_uri
        url, state = flow.authorization_url(access_type="offline", include_granted_scopes="true")
        session["state"] = state
        session["code_verifier"] = flow.code_verifier  # 1.5.0 sends a PKCE challenge
        return redirect(url)

    @app.get("/oauth2callback")
    def callback():
        flow = Flow.from_client_config(
            client_config,
            scopes=SCOPES,
            state=session["state"],
            code_verifier=session["code_verifier"],
        )
        flow.redirect_uri = redirect_uri
        flow.fetch_token(authorization_response=request.url)
        credentials = flow.credentials
        # The fields Google's sample keeps in the session (it keeps the client
        # secret there too).
        session["credentials"] = {
            "token": credentials.token,
            "refresh_token": credentials.refresh_token,
            "token_uri": credentials.token_uri,
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "scopes": list(credentials.scopes or ()),
        }
        return redirect("/")

    return app


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer(
            name="authlib",
            distribution="Authlib",
            module="authlib.integrations.flask_client",
            make=make_authlib,
            https_callback=False,
            pkce=True,
            nonce=True,
            verifies_id_token=True,
            rotates_session=False,
            does="ID token verified by Authlib (RS256, iss/aud/exp/nonce, JWKS kept in"
            " memory); the state data, with the whole authorization URL, in the session;"
            " a new requests session per token request",
        ),
        Peer(
            name="flask-dance",
            distribution="Flask-Dance",
            module="flask_dance.consumer",
            make=make_flask_dance,
            https_callback=True,
            pkce=True,
            nonce=False,
            verifies_id_token=False,
            rotates_session=False,
            does="no nonce, the ID token is not verified (it is kept, unread, in the stored"
            " token); the whole token in the Flask session; a new requests session per"
            " request",
        ),
        Peer(
            name="google-sample",
            distribution="google-auth-oauthlib",
            module="google_auth_oauthlib.flow",
            make=make_google_sample,
            https_callback=True,
            pkce=True,
            nonce=False,
            verifies_id_token=False,
            rotates_session=False,
            does="no nonce, the ID token is not verified (the Credentials keep the raw"
            " JWT); the credentials' fields, client secret included, in the session; a new"
            " Flow and requests session per request",
        ),
    )
}
