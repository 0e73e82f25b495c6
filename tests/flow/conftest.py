"""Fixtures of the flow-layer tests."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flow_support import FakeBrowser, make_config


@pytest.fixture
def config() -> dict[str, Any]:
    return make_config()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """`responses` in strict mode; every request must be expected."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture(autouse=True)
def _no_global_side_effects() -> Iterator[None]:
    """Every flow test: no OAUTHLIB_* env var appears, and no Warning escapes."""
    before = {k: v for k, v in os.environ.items() if k.startswith("OAUTHLIB")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    after = {k: v for k, v in os.environ.items() if k.startswith("OAUTHLIB")}
    assert after == before


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    """Patch ``flask_google_flow.flow.webbrowser`` as users of the reference do."""
    fake = FakeBrowser()
    import flask_google_flow.flow as flow_module

    monkeypatch.setattr(flow_module, "webbrowser", fake)
    return fake
