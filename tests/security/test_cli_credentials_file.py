"""``flask-google-flow --save``: the credentials file (refresh token + client secret)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from flask_google_flow import cli
from flask_google_flow.flow import InstalledAppFlow

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")

CONFIG = {
    "installed": {
        "client_id": "cid.apps.googleusercontent.com",
        "client_secret": "GOCSPX-cli-secret",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "redirect_uris": ["http://localhost"],
    }
}


@pytest.fixture
def run_cli(tmp_path, monkeypatch):
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(CONFIG))

    def fake_run_local_server(self, **kwargs):
        self.oauth2session.token = {
            "access_token": "ya29.ACCESS",
            "refresh_token": "1//REFRESH-secret",
            "token_type": "Bearer",
            "expires_in": 3599,
            "scope": ["openid"],
        }
        return self.credentials

    monkeypatch.setattr(InstalledAppFlow, "run_local_server", fake_run_local_server)

    def run(target):
        argv = ["--client-secrets", str(secrets_file), "--scope", "openid"]
        argv += ["--save", "--credentials", str(target), "--no-browser"]
        return cli.main(argv)

    return run


def test_save_over_an_existing_world_readable_file_makes_it_private(run_cli, tmp_path):
    target = tmp_path / "creds.json"
    target.write_text("{}")
    os.chmod(target, 0o644)  # e.g. left by an earlier tool, or pre-created by another user
    assert run_cli(target) == 0
    assert json.loads(target.read_text())["refresh_token"] == "1//REFRESH-secret"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_save_replaces_a_planted_symlink_instead_of_writing_through_it(run_cli, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    target = tmp_path / "creds.json"
    target.symlink_to(victim)
    assert run_cli(target) == 0
    assert victim.read_text() == "untouched"
    assert not target.is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".credentials-")] == []
