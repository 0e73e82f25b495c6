"""The example test module of the "Testing your app" page, run as part of this suite.

``docs/examples/test_quickstart_app.py`` is what a user of the package would
write; its fixtures and tests are collected here, with the package's own pytest
plugin providing ``fake_google`` and ``google_login``.
"""

from __future__ import annotations

from .conftest import load_example

_example = load_example("test_quickstart_app")
globals().update(
    {
        name: value
        for name, value in vars(_example).items()
        if name == "app" or name.startswith("test_")
    }
)

_without = load_example("test_without_fixtures")
test_sign_in_without_the_fixtures = _without.test_sign_in_without_the_fixtures
