"""The plugin as its users get it: loaded through the ``pytest11`` entry point."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

APP = """
from flask import Flask, abort, session
from flask_google_flow import GoogleFlow

DRIVE = "https://www.googleapis.com/auth/drive.readonly"


def create_app(config):
    app = Flask(__name__)
    app.config.update(config)
    GoogleFlow(app)

    @app.route("/profile")
    def profile():
        user = session.get("_google_flow_user")
        if not user:
            abort(401)
        return user["claims"]["email"]

    @app.route("/drive")
    def drive():
        user = session.get("_google_flow_user")
        if not user or DRIVE not in user["scopes"]:
            abort(403)
        return "files"

    return app
"""

CONFTEST = """
import pytest
from myapp import DRIVE, create_app


@pytest.fixture
def app(fake_google, tmp_path):
    return create_app({
        "SECRET_KEY": "test",
        "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
        "GOOGLE_FLOW_EXTRA_SCOPES": [DRIVE],
        "GOOGLE_FLOW_SESSION_DIR": str(tmp_path / "sessions"),
    })
"""

TESTS = """
from myapp import DRIVE


def test_profile_requires_sign_in(app):
    assert app.test_client().get("/profile").status_code == 401


def test_profile_shows_the_signed_in_user(app, google_login):
    client = app.test_client()
    google_login(client, account="alice@example.com", next="/profile")
    assert client.get("/profile").get_data(as_text=True) == "alice@example.com"


def test_drive_page_with_the_extra_scope(app, google_login):
    client = app.test_client()
    google_login(client, scopes=["openid", "email", "profile", DRIVE])
    assert client.get("/drive").status_code == 200


def test_drive_page_without_it(app, google_login):
    client = app.test_client()
    google_login(client)
    assert client.get("/drive").status_code == 403


def test_user_who_declines_sees_a_friendly_page(app, google_login):
    assert google_login.deny(app.test_client()).status_code == 403
"""


def test_fixtures_are_registered_through_the_entry_point(run_pytest):
    result = run_pytest({}, "--fixtures")
    for name in ("fake_google", "fake_google_clock", "fake_google_server", "google_login"):
        pattern = rf"^{name} -- .*flask_google_flow/testing/pytest_plugin\.py:"
        assert re.search(pattern, result.output, re.M), result.output


def test_the_documented_example_passes(run_pytest):
    result = run_pytest({"myapp.py": APP, "conftest.py": CONFTEST, "test_views.py": TESTS})
    assert result.outcomes() == {"passed": 5}, result.output


def test_nothing_is_intercepted_unless_a_test_asks(run_pytest):
    result = run_pytest(
        {
            "test_isolation.py": """
            from requests.adapters import HTTPAdapter

            ORIGINAL = HTTPAdapter.send

            def test_before():
                assert HTTPAdapter.send is ORIGINAL

            def test_with_the_fake(fake_google):
                assert HTTPAdapter.send is not ORIGINAL

            def test_after():
                assert HTTPAdapter.send is ORIGINAL
            """
        },
        "-p",
        "no:randomly",
    )
    assert result.outcomes() == {"passed": 3}, result.output


def test_marker_is_registered_for_strict_markers(run_pytest):
    result = run_pytest(
        {
            "test_marker.py": """
            import pytest

            @pytest.mark.fake_google(account_email="boss@example.com")
            def test_it(fake_google):
                assert fake_google.default_account.email == "boss@example.com"

            @pytest.mark.fake_google("positional")
            def test_positional_is_refused(fake_google):
                pass
            """
        },
        "--strict-markers",
    )
    assert result.outcomes() == {"passed": 1, "error": 1}, result.output
    assert "keyword arguments only" in result.output


def test_the_plugin_can_be_disabled(run_pytest):
    result = run_pytest(
        {"test_off.py": "def test_it(fake_google):\n    pass\n"}, "-p", "no:flask_google_flow"
    )
    assert result.outcomes() == {"error": 1}, result.output
    assert "fixture 'fake_google' not found" in result.output


def test_importing_the_plugin_activates_nothing():
    code = textwrap.dedent(
        """
        import sys
        import flask_google_flow.testing.pytest_plugin as plugin
        from requests.adapters import HTTPAdapter
        assert HTTPAdapter.send.__module__ == "requests.adapters", HTTPAdapter.send
        assert "responses" not in sys.modules
        assert "flask_google_flow.testing._server" not in sys.modules
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
