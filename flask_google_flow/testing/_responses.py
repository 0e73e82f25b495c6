"""In-process mode: route ``requests`` calls to the fake's WSGI app through ``responses``."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
import responses
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from ._failures import SimulatedTimeout
from ._wsgi import IN_PROCESS_ENVIRON_KEY

if TYPE_CHECKING:
    from requests import PreparedRequest

    from .fake_google import FakeGoogle

_Result = tuple[int, list[tuple[str, str]], bytes]


def wsgi_callback(app: Callable[..., object]) -> Callable[[PreparedRequest], _Result]:
    """Return a ``responses`` callback that answers a request by running ``app``."""

    def callback(prepared: PreparedRequest) -> _Result:
        parts = urlsplit(prepared.url or "")
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {
            key: value for key, value in prepared.headers.items() if key.lower() != "content-length"
        }
        builder = EnvironBuilder(
            path=parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=prepared.method,
            headers=headers,
            data=body or b"",
            environ_overrides={IN_PROCESS_ENVIRON_KEY: True},
        )
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        try:
            response = Response.from_app(app, environ)
        except SimulatedTimeout as exc:
            error = (
                requests.exceptions.ConnectTimeout
                if exc.connect
                else requests.exceptions.ReadTimeout
            )
            raise error(f"fake Google: simulated {exc}", request=prepared) from None
        result_headers = [
            (key, value)
            for key, value in response.headers.items()
            if key.lower() != "content-length"
        ]
        return response.status_code, result_headers, response.get_data()

    return callback


@contextlib.contextmanager
def intercept(
    fake: FakeGoogle,
    mock: responses.RequestsMock | None,
    *,
    allow_network: tuple[str, ...] = (),
) -> Iterator[responses.RequestsMock]:
    """Register the fake's endpoints on ``mock`` (or a new, started mock) for the block."""
    owns_mock = mock is None
    active = mock or responses.RequestsMock(assert_all_requests_are_fired=False)
    if owns_mock:
        for prefix in allow_network:
            active.add_passthru(prefix)
        active.start()
    callback = wsgi_callback(fake.wsgi_app)
    registered = []
    try:
        for url in (*fake.endpoints.all_urls(), *fake.risc.urls()):
            pattern = re.compile("^" + re.escape(url) + r"(?:\?.*)?$")
            for method in ("GET", "POST"):
                registered.append(
                    active.add_callback(method, pattern, callback=callback, content_type=None)
                )
        yield active
    finally:
        if owns_mock:
            active.stop()
            active.reset()
        else:
            for response in registered:
                with contextlib.suppress(ValueError):
                    active.remove(response)
