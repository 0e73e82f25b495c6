"""An app with GIS pages, wired to an in-process fake Google."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, render_template_string

from flask_google_flow import GoogleFlow
from flask_google_flow.testing import FakeClock, FakeGoogle
from tests.sign_in_helpers import add_home_page, build_app

ORIGIN = "http://localhost"
PAGE = "{{ google_one_tap(next='/after') }}{{ google_sign_in_button() }}"


@pytest.fixture
def stored() -> list[tuple[Any, dict[str, Any]]]:
    """What the app's store callback received, in order."""
    return []


@pytest.fixture
def make_app(
    fake: FakeGoogle, clock: FakeClock, tmp_path: Any, stored: list
) -> Callable[..., Flask]:
    def factory(*, extension: GoogleFlow | None = None, config: dict | None = None, **options):
        app, _ = build_app(
            fake,
            clock,
            tmp_path / "instance",
            stored=stored,
            extension=extension,
            config=config,
            **options,
        )

        add_home_page(app)

        @app.route("/page")
        def page():
            return render_template_string(PAGE)

        @app.route("/button")
        def button():
            return render_template_string("{{ google_sign_in_button() }}")

        return app

    return factory


def page_nonce(client: Any, path: str = "/page") -> str:
    """Render a GIS page with *client* and return its ``data-nonce``."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'data-nonce="([^"]+)"', html)
    assert match, html
    return match.group(1)


def post_gsi(
    client: Any,
    credential: str | None,
    *,
    csrf_cookie: str | None = "csrf-value",
    csrf_field: str | None = "csrf-value",
    origin: str | None = ORIGIN,
    headers: dict | None = None,
    data: dict | None = None,
) -> Any:
    """POST /gsi as Google's script does, with each part adjustable."""
    if csrf_cookie is not None:
        client.set_cookie("g_csrf_token", csrf_cookie)
    else:
        client.delete_cookie("g_csrf_token")
    form: dict[str, Any] = {"select_by": "btn"}
    if credential is not None:
        form["credential"] = credential
    if csrf_field is not None:
        form["g_csrf_token"] = csrf_field
    form.update(data or {})
    sent = dict(headers or {})
    if origin is not None:
        sent["Origin"] = origin
    return client.post("/gsi", data=form, headers=sent)


@pytest.fixture
def google_login_like(clock: FakeClock) -> GoogleFlow:
    """An extension without a store callback: credentials live in the session."""
    return GoogleFlow(clock=clock)
