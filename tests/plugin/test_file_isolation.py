"""Apps built in tests keep their session files under ``tmp_path``, not in ``instance/``.

The plugin's ``fake_google`` / ``fake_google_server`` fixtures activate
``google_flow_session_dir``: an app set up during the test without
``GOOGLE_FLOW_SESSION_DIR`` writes its embedded session and pending-flow files
there. These tests run the plugin's documented example (the module docstring
of ``pytest_plugin``, which sets no session folder) in a fresh project and
look at what is left behind.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from flask_google_flow import GoogleFlow
from flask_google_flow.ext.instance_files import default_session_dir, session_dir_default

from .test_entry_point import APP, TESTS

#: The conftest of the plugin's docstring: no GOOGLE_FLOW_SESSION_DIR.
CONFTEST = """
import pytest
from myapp import DRIVE, create_app


@pytest.fixture
def app(fake_google):
    return create_app({
        "SECRET_KEY": "test",
        "GOOGLE_CLIENT_CONFIG": fake_google.client_config(),
        "GOOGLE_FLOW_EXTRA_SCOPES": [DRIVE],
    })
"""


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_the_documented_example_leaves_nothing_in_instance(run_pytest, tmp_path):
    result = run_pytest(
        {"myapp.py": APP, "conftest.py": CONFTEST, "test_views.py": TESTS},
        f"--basetemp={tmp_path / 'basetemp'}",
    )
    assert result.outcomes() == {"passed": 5}, result.output
    assert not (tmp_path / "instance").exists()
    # The sessions were written, under the inner tests' tmp_path.
    sessions = [p for p in _files_under(tmp_path / "basetemp") if "google_flow_sessions" in str(p)]
    assert sessions


def test_without_the_plugin_fixture_the_instance_folder_is_used(fake, tmp_path):
    # What the fixture prevents: the default is the app's instance folder.
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config())
    GoogleFlow(app)
    assert default_session_dir(app) == str(tmp_path / "instance" / "google_flow_sessions")
    assert (tmp_path / "instance" / "google_flow_sessions").is_dir()


def test_the_fixture_redirects_new_apps_and_ends_with_the_test(
    google_flow_session_dir, fake, tmp_path
):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="k", GOOGLE_CLIENT_CONFIG=fake.client_config())
    GoogleFlow(app)
    assert not (tmp_path / "instance").exists()
    assert (google_flow_session_dir / "google_flow_sessions").is_dir()


def test_an_explicit_setting_wins(google_flow_session_dir, fake, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        SECRET_KEY="k",
        GOOGLE_CLIENT_CONFIG=fake.client_config(),
        GOOGLE_FLOW_SESSION_DIR=str(tmp_path / "mine"),
    )
    GoogleFlow(app)
    assert (tmp_path / "mine").is_dir()
    assert not (google_flow_session_dir / "google_flow_sessions").exists()


def test_the_default_is_restored_after_the_block(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    with session_dir_default(tmp_path / "t"):
        assert default_session_dir(app) == str(tmp_path / "t" / "google_flow_sessions")
    assert default_session_dir(app) == str(tmp_path / "instance" / "google_flow_sessions")
