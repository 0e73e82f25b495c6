"""Fixtures for the tests of the documentation's examples (``docs/examples/``).

Every code block of the docs is either a Sphinx doctest or a ``literalinclude``
of a file under ``docs/examples/``; these tests import and run those files, so a
page cannot show code that does not work.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from urllib.parse import urlsplit

import pytest

from flask_google_flow.testing import FakeGoogle

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "docs", "examples")
EXAMPLES = os.path.normpath(EXAMPLES)
CALLBACK = "http://localhost/oauth2callback"

if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)


def load_example(name: str) -> ModuleType:
    """Import ``docs/examples/<name>.py`` (fresh each time, so module state is new)."""
    sys.modules.pop(name, None)
    return importlib.import_module(name)


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    """The fake Google, answering ``requests`` calls in-process."""
    google = FakeGoogle()
    with google.intercept():
        yield google


def path_of(url: str) -> str:
    """The path and query of a URL, for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def sign_in(client, fake: FakeGoogle, start: str = "/authorize", **approve):
    """Follow a whole sign-in with the test client; return the callback's response."""
    response = client.get(start)
    assert response.status_code == 302, response.get_data(as_text=True)
    callback = fake.approve(response.headers["Location"], **approve)
    return client.get(path_of(callback))
