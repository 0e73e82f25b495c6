"""pytest fixtures for testing apps that use :class:`~flask_google_flow.GoogleFlow`.

This plugin is registered through the ``pytest11`` entry point, so the
fixtures are available in every test suite of a project that has
``flask-google-flow`` installed. Nothing happens unless a test asks for one of
the fixtures: importing the plugin imports only :mod:`pytest`, and the fake
Google is created (and ``requests`` intercepted) only for the tests that use
it, for the duration of each test.

Fixtures
--------

``fake_google``
    A :class:`~flask_google_flow.testing.FakeGoogle` intercepting ``requests``
    in-process (via ``responses``) at Google's real URLs, for the test's
    duration. Configure your app with
    ``GOOGLE_CLIENT_CONFIG=fake_google.client_config()`` (its default redirect
    URI is the test client's ``http://localhost/oauth2callback``). Options of
    :class:`~flask_google_flow.testing.FakeGoogle` (and ``allow_network=[...]``
    URL prefixes) can be given with a marker:
    ``@pytest.mark.fake_google(refresh_token_on_every_consent=True)``.
``fake_google_clock``
    The :class:`~flask_google_flow.testing.FakeClock` the ``fake_google``
    fixture runs on. Pass it to ``GoogleFlow(clock=...)`` as well and call
    ``fake_google_clock.advance(3600)`` to expire access tokens without
    sleeping.
``fake_google_server``
    A :class:`~flask_google_flow.testing.FakeGoogle` served over real HTTP on
    ``127.0.0.1`` (free ports) for the test's duration, for browsers and
    other processes: the consent page over plain http, the back channel
    (token, certs, userinfo, revoke, discovery) over https. Configure the app with
    ``GOOGLE_FLOW_DISCOVERY_URL=fake_google_server.discovery_url``,
    ``GOOGLE_CLIENT_CONFIG=fake_google_server.client_config(redirect_uris=[...])`` and
    ``GOOGLE_FLOW_CA_BUNDLE=fake_google_server.ca_bundle``.
``google_flow_session_dir``
    A folder under the test's ``tmp_path``. While it is active, every app whose
    ``init_app`` runs without ``GOOGLE_FLOW_SESSION_DIR`` writes its embedded
    session and pending-flow files there, never into the project's
    ``instance/`` folder. ``fake_google`` and ``fake_google_server`` use it, so
    an app built in a test that uses either is isolated without any setting;
    ask for it directly in tests that build apps without the fake.
``google_login``
    A :class:`GoogleLogin` helper: ``google_login(client, account=..., scopes=...,
    next=...)`` signs a Flask test client in through the app's real
    ``/authorize`` → consent → ``/oauth2callback`` path (so the app's ``store``
    callback runs, ID tokens are verified, everything as in production), in one
    call — the equivalent of Flask-Login's test client.
    ``google_login.deny(client)`` presses "Cancel" on the consent screen
    instead, ``google_login.gsi(client, account=..., next=...)`` signs in
    through ``POST /gsi`` as the "Sign in with Google" button or One Tap does,
    and ``google_login.logout(client)`` posts to the logout route.

Example: testing a protected view
---------------------------------

.. code-block:: python

    # conftest.py
    import pytest
    from myapp import create_app

    DRIVE = "https://www.googleapis.com/auth/drive.readonly"

    @pytest.fixture
    def app(fake_google):
        return create_app({
            "SECRET_KEY": "test",
            "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
            "GOOGLE_FLOW_EXTRA_SCOPES": [DRIVE],
        })

    # test_views.py
    from conftest import DRIVE

    def test_profile_requires_sign_in(app):
        response = app.test_client().get("/profile")
        assert response.status_code == 302          # sent through /authorize

    def test_profile_shows_the_signed_in_user(app, google_login):
        client = app.test_client()
        google_login(client, account="alice@example.com", next="/profile")
        assert "alice@example.com" in client.get("/profile").get_data(as_text=True)

    def test_drive_page_with_the_extra_scope(app, google_login):
        client = app.test_client()
        google_login(client, scopes=["openid", "email", "profile", DRIVE])
        assert client.get("/drive").status_code == 200

    def test_user_who_declines_sees_a_friendly_page(app, google_login):
        response = google_login.deny(app.test_client())
        assert response.status_code == 403

The helper finds the sign-in route with ``url_for`` on the app's blueprint
endpoint, so it works with any ``GOOGLE_FLOW_URL_PREFIX`` or blueprint nesting.
The app's redirect URI must be registered on the fake (it is, for the default
``http://localhost/oauth2callback``; otherwise pass ``redirect_uris=[...]`` to
``fake_google.client_config``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse

    from ._clock import FakeClock
    from ._model import Account
    from .fake_google import FakeGoogle

__all__ = [
    "GoogleLogin",
    "fake_google",
    "fake_google_clock",
    "fake_google_server",
    "google_flow_session_dir",
    "google_login",
]

_MARKER = "fake_google"
_IDENTITY_ALIASES = {
    "https://www.googleapis.com/auth/userinfo.email": "email",
    "https://www.googleapis.com/auth/userinfo.profile": "profile",
}


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_google`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        "fake_google(**options): FakeGoogle(...) options (and allow_network=[...]) "
        "for the fake_google / fake_google_server fixtures of flask-google-flow",
    )


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(_MARKER))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.fake_google takes keyword arguments only")
        options.update(marker.kwargs)
    return options


@pytest.fixture
def fake_google_clock() -> FakeClock:
    """A :class:`~flask_google_flow.testing.FakeClock` the fake Google runs on.

    Starts at the real time; pass it to ``GoogleFlow(clock=...)`` too, then
    :meth:`~flask_google_flow.testing.FakeClock.advance` it to expire tokens.
    """
    from ._clock import FakeClock

    return FakeClock()


@pytest.fixture
def google_flow_session_dir(tmp_path: Path) -> Iterator[Path]:
    """The test's folder for the embedded session backend's files (under ``tmp_path``).

    Apps set up while it is active without ``GOOGLE_FLOW_SESSION_DIR`` keep
    their session and pending-flow files in ``<this folder>/google_flow_sessions``
    instead of ``<instance_path>/google_flow_sessions``. See
    :mod:`flask_google_flow.ext.instance_files`.
    """
    from ..ext.instance_files import session_dir_default

    folder = tmp_path / "google_flow"
    with session_dir_default(folder):
        yield folder


@pytest.fixture
def fake_google(
    request: pytest.FixtureRequest,
    fake_google_clock: FakeClock,
    google_flow_session_dir: Path,
) -> Iterator[FakeGoogle]:
    """A fake Google intercepting ``requests`` in-process for the duration of the test.

    Requests to Google's real endpoint URLs reach the fake; any other request
    made through ``requests`` raises ``ConnectionError`` unless allowed with
    ``@pytest.mark.fake_google(allow_network=["https://other.example/"])``.
    Other keyword arguments of the marker go to
    :class:`~flask_google_flow.testing.FakeGoogle`.
    """
    from .fake_google import FakeGoogle

    options = _marker_options(request)
    allow_network = options.pop("allow_network", ())
    options.setdefault("clock", fake_google_clock)
    fake = FakeGoogle(**options)
    with fake.intercept(allow_network=allow_network):
        yield fake


@pytest.fixture
def fake_google_server(
    request: pytest.FixtureRequest,
    fake_google_clock: FakeClock,
    google_flow_session_dir: Path,
) -> Iterator[FakeGoogle]:
    """A fake Google served over HTTP on ``127.0.0.1`` (free ports) for the test's duration.

    The consent page is under ``fake_google_server.front_channel_url`` (http);
    the issuer and every other endpoint under ``fake_google_server.base_url``
    (https, trusted by ``fake_google_server.ca_bundle``).
    Keyword arguments of ``@pytest.mark.fake_google(...)`` go to
    :class:`~flask_google_flow.testing.FakeGoogle`.
    """
    from .fake_google import FakeGoogle

    options = _marker_options(request)
    options.pop("allow_network", None)
    options.setdefault("clock", fake_google_clock)
    fake = FakeGoogle(**options)
    with fake.serve():
        yield fake


@pytest.fixture
def google_login(fake_google: FakeGoogle) -> GoogleLogin:
    """A :class:`GoogleLogin` bound to the ``fake_google`` fixture."""
    return GoogleLogin(fake_google)


def _canonical(scope: str) -> str:
    return _IDENTITY_ALIASES.get(scope, scope)


class GoogleLogin:
    """Signs a Flask test client in (or fails to) through the app's real sign-in routes.

    Every call drives ``GET /authorize`` on the app, lets the fake Google
    approve (or deny) the authorization request it redirected to, and requests
    the resulting ``/oauth2callback`` URL with the same client — exactly what a
    browser does, minus the consent page.

    :param fake: the :class:`~flask_google_flow.testing.FakeGoogle` the app talks to.
    """

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake

    def __call__(
        self,
        client: FlaskClient,
        account: str | Account | None = None,
        scopes: Iterable[str] | None = None,
        next: str | None = None,
        *,
        extra_scopes: Iterable[str] | None = None,
        prompt: str | None = None,
        login_hint: str | None = None,
        check: bool = True,
    ) -> TestResponse:
        """Sign ``client`` in as ``account`` and return the callback's response.

        :param client: a Flask test client (``app.test_client()``).
        :param account: the email signing in (added to the fake if unknown) or
            an :class:`~flask_google_flow.testing.Account`; default: the
            ``login_hint`` account, else the fake's default account.
        :param scopes: the scopes the user grants; default: everything the app
            asks for. Scopes beyond the app's ``GOOGLE_SCOPES`` are requested as
            extra scopes (they must be in ``GOOGLE_FLOW_EXTRA_SCOPES``); leaving
            out some of the app's scopes is a partial consent.
        :param next: where the app should send the browser after sign-in.
        :param extra_scopes: scopes to request beyond ``GOOGLE_SCOPES``;
            default: those of ``scopes`` that are not configured.
        :param prompt: the ``prompt`` parameter of ``/authorize``.
        :param login_hint: the ``login_hint`` parameter of ``/authorize``.
        :param check: fail the test (``AssertionError``) when the callback
            answers with an error status; ``False`` returns any response.
        :returns: the ``/oauth2callback`` response (normally a 302 to ``next``).
        """
        if isinstance(account, str) and account not in self.fake.accounts:
            self.fake.add_account(account)
        granted = None if scopes is None else list(scopes)
        if extra_scopes is None and granted is not None:
            configured = {_canonical(s) for s in self._configured_scopes(client.application)}
            extra_scopes = [s for s in granted if _canonical(s) not in configured]
        location = self.start(
            client, next=next, extra_scopes=extra_scopes, prompt=prompt, login_hint=login_hint
        )
        callback = self._answer(
            lambda: self.fake.approve(location, account=account, granted_scopes=granted)
        )
        response = client.get(_path_and_query(callback))
        if check and response.status_code >= 400:
            raise AssertionError(
                f"signing in failed: the callback answered {response.status}: {_text(response)}"
            )
        return response

    def deny(
        self,
        client: FlaskClient,
        next: str | None = None,
        *,
        extra_scopes: Iterable[str] | None = None,
    ) -> TestResponse:
        """Start a sign-in and press "Cancel" on the consent screen.

        :returns: the ``/oauth2callback`` response: by default the 403
            :class:`~flask_google_flow.ext.errors.AuthorizationDenied` page, or whatever
            the app's error handler renders.
        """
        location = self.start(client, next=next, extra_scopes=extra_scopes)
        return client.get(_path_and_query(self._answer(lambda: self.fake.deny(location))))

    def start(
        self,
        client: FlaskClient,
        *,
        next: str | None = None,
        extra_scopes: Iterable[str] | None = None,
        prompt: str | None = None,
        login_hint: str | None = None,
    ) -> str:
        """``GET /authorize`` with ``client`` and return the provider URL it redirects to.

        Use it to answer the authorization request yourself, e.g. with
        ``fake.approve(url, granted_scopes=[...])`` from another client.

        :raises AssertionError: if ``/authorize`` does not redirect.
        """
        query: dict[str, str] = {}
        if next is not None:
            query["next"] = next
        if extra_scopes:
            query["scope"] = " ".join(extra_scopes)
        if prompt is not None:
            query["prompt"] = prompt
        if login_hint is not None:
            query["login_hint"] = login_hint
        path = self.url_for(client.application, "authorize", **query)
        response = client.get(path)
        if response.status_code != 302:
            raise AssertionError(
                f"GET {path} answered {response.status}, not a redirect to Google: "
                f"{_text(response)}"
            )
        return response.headers["Location"]

    def gsi(
        self,
        client: FlaskClient,
        account: str | Account | None = None,
        next: str | None = None,
        *,
        check: bool = True,
    ) -> TestResponse:
        """Sign ``client`` in through ``POST /gsi``, as the "Sign in with Google" button does.

        Makes this client's session a page nonce (as rendering the button
        does), has the fake sign an ID token carrying it, and posts it with a
        matching ``g_csrf_token`` cookie and field from the app's own origin.
        The app's ``store`` runs as ``store(None, id_info)``.

        :param account: the email signing in (added to the fake if unknown)
            or an :class:`~flask_google_flow.testing.Account`; default: the
            fake's default account.
        :param next: where the app should send the browser afterwards.
        :param check: fail the test (``AssertionError``) on an error status.
        :returns: the ``/gsi`` response (normally a 302 to ``next``).
        """
        import secrets

        from ..ext.gsi import CSRF_COOKIE, issue_nonce
        from ..ext.state import app_state

        app = client.application
        with client.session_transaction() as sess:
            nonce = issue_nonce(app, sess, next)
        credential = self.fake.gsi_credential(
            account, nonce=nonce, client_id=app_state(app).client_id
        )
        csrf = secrets.token_urlsafe(16)
        client.set_cookie(CSRF_COOKIE, csrf)
        path, origin = self._path_and_origin(app, "gsi")
        response = client.post(
            path,
            data={"credential": credential, CSRF_COOKIE: csrf, "select_by": "btn"},
            headers={"Origin": origin},
        )
        if check and response.status_code >= 400:
            raise AssertionError(
                f"signing in through /gsi failed: it answered {response.status}: {_text(response)}"
            )
        return response

    @staticmethod
    def _path_and_origin(app: Flask, name: str) -> tuple[str, str]:
        from flask import url_for

        from ..ext.state import app_state

        with app.test_request_context():
            full = app_state(app).endpoint(name)
            path = url_for(full)
            external = url_for(full, _external=True)
        return path, "/".join(external.split("/", 3)[:3])

    def logout(self, client: FlaskClient, *, revoke: bool = False) -> TestResponse:
        """POST to the app's logout (or, with ``revoke=True``, revoke) route.

        Sends a same-origin ``Origin`` header, as a browser submitting the
        app's own form would.
        """
        path, origin = self._path_and_origin(client.application, "revoke" if revoke else "logout")
        return client.post(path, headers={"Origin": origin})

    @staticmethod
    def url_for(app: Flask, name: str, **values: Any) -> str:
        """The path of one of the app's GoogleFlow routes (``authorize``, ``logout``...)."""
        from flask import url_for

        from ..ext.state import app_state

        with app.test_request_context():
            return url_for(app_state(app).endpoint(name), **values)

    @staticmethod
    def _configured_scopes(app: Flask) -> tuple[str, ...]:
        from ..ext.state import app_state

        return app_state(app).settings.scopes

    def _answer(self, decide: Any) -> str:
        from ._authorization import AuthorizationRequestError

        try:
            return decide()
        except AuthorizationRequestError as error:
            hint = ""
            if error.error == "redirect_uri_mismatch":
                hint = (
                    " Register the app's redirect URI with the fake: "
                    "GOOGLE_CLIENT_CONFIG=fake.client_config(redirect_uris=[...])."
                )
            raise AssertionError(
                f"the fake Google refused the authorization request: {error}.{hint}"
            ) from None


def _path_and_query(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _text(response: TestResponse, limit: int = 500) -> str:
    text = response.get_data(as_text=True)
    return text if len(text) <= limit else text[:limit] + "..."
