"""``docs/examples/installed_app.py`` against the fake Google (an ``installed`` client)."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest

from flask_google_flow.testing import FakeGoogle

from .conftest import load_example


@pytest.fixture
def installed(tmp_path):
    fake = FakeGoogle(client_type="installed", redirect_uris=())
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps(fake.client_config()))
    with fake.intercept():
        yield fake, str(path)


def test_headless_mode(installed, monkeypatch):
    fake, secrets_file = installed
    printed = []
    monkeypatch.setattr("builtins.print", lambda *args, **kw: printed.append(" ".join(args)))

    def paste(prompt):  # the user opens the URL elsewhere and pastes the address back
        url = next(word for line in printed for word in line.split() if "client_id=" in word)
        return fake.approve(url)

    monkeypatch.setattr("builtins.input", paste)
    credentials = load_example("installed_app").get_credentials(secrets_file, headless=True)
    assert credentials.refresh_token
    assert "https://www.googleapis.com/auth/drive.readonly" in credentials.granted_scopes


def test_local_server_mode(installed, monkeypatch):
    fake, secrets_file = installed

    class Browser:
        def get(self, name=None):
            return self

        def open(self, url, new=0, autoraise=True):
            callback = fake.approve(url)  # "Allow", then the browser follows the redirect
            threading.Thread(
                target=lambda: urllib.request.urlopen(callback, timeout=10).read()
            ).start()
            return True

    import flask_google_flow.flow as flow_module

    monkeypatch.setattr(flow_module, "webbrowser", Browser())
    monkeypatch.setattr("builtins.print", lambda *args, **kw: None)
    credentials = load_example("installed_app").get_credentials(secrets_file)
    assert credentials.token and credentials.refresh_token
