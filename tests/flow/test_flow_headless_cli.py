"""Headless (copy-and-paste) mode, the console script and the interactive helpers."""

from __future__ import annotations

import json
import os
import socket
import stat
from urllib.parse import parse_qs, urlsplit

import pytest
from flow_support import CLIENT_SECRET, SCOPES, TOKEN_URI, dump, make_config, token_body

from flask_google_flow import cli, exceptions, interactive
from flask_google_flow.flow import InstalledAppFlow


def params_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Terminal:
    """Injectable input/output: answers each prompt from the printed URL."""

    def __init__(self, answer):
        self.answer = answer  # callable(auth_url) -> pasted text
        self.printed = []
        self.prompts = []

    def output(self, text):
        self.printed.append(text)

    def input(self, prompt):
        self.prompts.append(prompt)
        url = next(w for t in self.printed for w in t.split() if w.startswith("https://"))
        return self.answer(url)


def redirected(url, **params):
    query = params_of(url)
    params.setdefault("state", query["state"])
    return query["redirect_uri"] + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def make_flow():
    return InstalledAppFlow.from_client_config(make_config("installed"), SCOPES)


def test_headless_happy_path(mocked):
    mocked.post(TOKEN_URI, json=token_body())
    term = Terminal(lambda url: "  " + redirected(url, code="THE-CODE") + "\n")
    flow = make_flow()
    creds = flow.run_headless(input_func=term.input, output=term.output, token_audience="aud")
    assert creds.refresh_token == "REFRESH-tok-456"
    body = parse_qs(mocked.calls[0].request.body)
    assert body["code"] == ["THE-CODE"] and body["audience"] == ["aud"]
    assert flow.redirect_uri.startswith("http://localhost:")
    assert flow.redirect_uri in term.printed[0]
    assert term.prompts == ["Paste the full address here: "]


def test_headless_retries_blank_input(mocked):
    mocked.post(TOKEN_URI, json=token_body())
    answers = iter(["", "   "])
    term = Terminal(lambda url: next(answers, redirected(url, code="THE-CODE")))
    make_flow().run_headless(port=8123, input_func=term.input, output=term.output)
    assert len(term.prompts) == 3
    assert "http://localhost:8123/" in term.printed[0]


def test_headless_state_mismatch(mocked):
    term = Terminal(lambda url: redirected(url, state="other", code="THE-CODE"))
    with pytest.raises(exceptions.StateMismatchError):
        make_flow().run_headless(input_func=term.input, output=term.output)
    assert not mocked.calls


def test_headless_denied(mocked):
    term = Terminal(lambda url: redirected(url, error="access_denied"))
    with pytest.raises(exceptions.AccessDeniedError):
        make_flow().run_headless(input_func=term.input, output=term.output)
    assert not mocked.calls


def test_headless_bare_code_is_refused(mocked):
    term = Terminal(lambda url: "4/0AbCdEf")
    with pytest.raises(ValueError, match="whole address"):
        make_flow().run_headless(input_func=term.input, output=term.output)
    assert not mocked.calls


def test_headless_silent_prompt(mocked):
    mocked.post(TOKEN_URI, json=token_body())
    printed = []
    flow = make_flow()

    # With the prompt disabled nothing is printed; the caller shows the URL itself.
    url_holder = {}
    real = flow.authorization_url

    def spy(**kwargs):
        url_holder["url"], state = real(**kwargs)
        return url_holder["url"], state

    flow.authorization_url = spy
    flow.run_headless(
        authorization_prompt_message=None,
        input_func=lambda prompt: redirected(url_holder["url"], code="C"),
        output=printed.append,
    )
    assert printed == []


# -- CLI -------------------------------------------------------------------------------


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / "client_secret.json"
    dump(path, make_config("installed"))
    return path


def test_cli_headless_prints_json(secrets_file, mocked, monkeypatch, capsys):
    mocked.post(TOKEN_URI, json=token_body())

    def fake_input(prompt):
        out = capsys.readouterr().out
        url = next(w for w in out.split() if w.startswith("https://"))
        print(out, end="")
        return redirected(url, code="THE-CODE")

    monkeypatch.setattr("builtins.input", fake_input)
    status = cli.main(
        [
            "--client-secrets",
            str(secrets_file),
            "--scope",
            "openid",
            "--scope",
            "email",
            "--headless",
        ]
    )
    assert status == 0
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    data = json.loads(last_line)
    assert data == {
        "token": "ACCESS-tok-123",
        "refresh_token": "REFRESH-tok-456",
        "token_uri": TOKEN_URI,
        "client_id": "cid.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "scopes": SCOPES,  # what the token response granted, not what was asked
    }


def test_cli_save_writes_private_file_without_access_token(
    secrets_file, tmp_path, monkeypatch, capsys
):
    calls = {}

    def fake_run_local_server(self, **kwargs):
        calls.update(kwargs)
        self.oauth2session.token = token_body()
        return self.credentials

    monkeypatch.setattr(InstalledAppFlow, "run_local_server", fake_run_local_server)
    target = tmp_path / "nested" / "creds.json"
    status = cli.main(
        [
            "--client-secrets",
            str(secrets_file),
            "--scope",
            "openid",
            "--save",
            "--credentials",
            str(target),
            "--port",
            "0",
            "--no-browser",
            "--timeout",
            "30",
        ]
    )
    assert status == 0
    assert calls == {"port": 0, "open_browser": False, "timeout_seconds": 30.0}
    saved = json.loads(target.read_text())
    assert "token" not in saved and saved["refresh_token"] == "REFRESH-tok-456"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert f"credentials saved: {target}" in capsys.readouterr().out


def test_cli_bad_secrets_file(tmp_path, capsys):
    status = cli.main(["--client-secrets", str(tmp_path / "missing.json"), "--scope", "openid"])
    assert status == 1
    err = capsys.readouterr().err
    assert "missing.json" in err and "does not exist" in err


def test_cli_requires_scope(secrets_file, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--client-secrets", str(secrets_file)])
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("platform", "variable", "base"),
    [
        ("linux", "XDG_CONFIG_HOME", None),
        ("win32", "APPDATA", None),
        ("darwin", None, "~/Library/Application Support"),
    ],
)
def test_cli_default_credentials_path(monkeypatch, tmp_path, platform, variable, base):
    monkeypatch.setattr(cli.sys, "platform", platform)
    if variable:
        monkeypatch.setenv(variable, str(tmp_path))
        expected = os.path.join(str(tmp_path), "flask-google-flow", "credentials.json")
    else:
        expected = os.path.join(os.path.expanduser(base), "flask-google-flow", "credentials.json")
    assert cli.default_credentials_path() == expected


def test_cli_default_credentials_path_without_xdg(monkeypatch):
    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    expected = os.path.join(
        os.path.expanduser("~/.config"), "flask-google-flow", "credentials.json"
    )
    assert cli.default_credentials_path() == expected


# -- interactive ------------------------------------------------------------------------


def test_is_port_open_and_find_open_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert not interactive.is_port_open(port)
        found = interactive.find_open_port(start=port, stop=port + 20)
        assert found is not None and found != port
        assert interactive.find_open_port(start=port, stop=port + 1) is None


def test_get_user_credentials(monkeypatch):
    seen = {}

    def fake_run_local_server(self, **kwargs):
        seen["kwargs"] = kwargs
        seen["config"] = self.client_config
        self.oauth2session.token = token_body()
        return self.credentials

    monkeypatch.setattr(InstalledAppFlow, "run_local_server", fake_run_local_server)
    monkeypatch.setattr(interactive, "find_open_port", lambda start, stop: 8099)
    creds = interactive.get_user_credentials(["openid"], "my-id", "my-secret")
    assert seen["kwargs"] == {"host": "localhost", "port": 8099}
    assert seen["config"]["token_uri"] == "https://oauth2.googleapis.com/token"
    assert creds.client_id == "my-id" and creds.client_secret == "my-secret"


def test_get_user_credentials_no_port(monkeypatch):
    monkeypatch.setattr(interactive, "find_open_port", lambda start, stop: None)
    with pytest.raises(ConnectionError):
        interactive.get_user_credentials(["openid"], "id", "secret")


def run_cli_headless(secrets_file, monkeypatch, capsys, *options):
    """Run ``--headless`` with ``options``; return (status, auth URL params, stdout, stderr)."""
    seen = {}

    def fake_input(prompt):
        out = capsys.readouterr().out
        url = next(w for w in out.split() if w.startswith("https://"))
        seen["params"] = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        return redirected(url, code="THE-CODE")

    monkeypatch.setattr("builtins.input", fake_input)
    argv = ["--client-secrets", str(secrets_file), "--scope", "openid", "--headless", *options]
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, seen["params"], captured.out, captured.err


def test_cli_prompt_and_login_hint_reach_the_authorization_url(
    secrets_file, mocked, monkeypatch, capsys
):
    mocked.post(TOKEN_URI, json=token_body())
    status, params, _out, err = run_cli_headless(
        secrets_file, monkeypatch, capsys, "--prompt", "consent", "--login-hint", "me@example.com"
    )
    assert status == 0
    assert params["prompt"] == "consent" and params["login_hint"] == "me@example.com"
    assert "refresh token" not in err  # one came back: nothing to explain


def test_cli_without_prompt_sends_none(secrets_file, mocked, monkeypatch, capsys):
    mocked.post(TOKEN_URI, json=token_body())
    _status, params, _out, _err = run_cli_headless(secrets_file, monkeypatch, capsys)
    assert "prompt" not in params and "login_hint" not in params


def test_cli_says_why_no_refresh_token_came_back(secrets_file, mocked, monkeypatch, capsys):
    body = token_body()
    del body["refresh_token"]
    mocked.post(TOKEN_URI, json=body)
    status, _params, out, err = run_cli_headless(secrets_file, monkeypatch, capsys)
    assert status == 0
    assert "no refresh token was returned" in err
    assert "first time" in err and "--prompt consent" in err
    assert json.loads(out.strip().splitlines()[-1])["refresh_token"] is None


def test_cli_no_refresh_token_even_with_prompt_consent(secrets_file, mocked, monkeypatch, capsys):
    body = token_body()
    del body["refresh_token"]
    mocked.post(TOKEN_URI, json=body)
    _status, _params, _out, err = run_cli_headless(
        secrets_file, monkeypatch, capsys, "--prompt", "consent"
    )
    assert "no refresh token was returned" in err and "offline access" in err
