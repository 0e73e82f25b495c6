"""``docs/examples/test_protected_views.py`` (the "Testing your app" page), run here.

Its fixtures and tests are collected in this module; the package's own pytest
plugin provides ``fake_google``, ``fake_google_clock`` and ``google_login``.
"""

from __future__ import annotations

from .conftest import load_example

_example = load_example("test_protected_views")
globals().update(
    {
        name: value
        for name, value in vars(_example).items()
        if name == "app" or name.startswith("test_")
    }
)
