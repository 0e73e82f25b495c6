import threading
import webbrowser

import pytest
import requests
from google.auth.transport.requests import Request

from flask_google_flow.flow import Flow, InstalledAppFlow

SCOPES = ["openid", "email"]

# The fake_google_server fixture with an "installed" (desktop) client, which
# accepts http://127.0.0.1 and http://localhost redirect URIs on any port.
pytestmark = pytest.mark.fake_google(client_type="installed")


def test_flow_signs_in(fake_google_server):
    fake = fake_google_server
    flow = Flow.from_client_config(
        fake.client_config(), SCOPES, redirect_uri="http://127.0.0.1:8080/"
    )
    fake.trust(flow.oauth2session)  # verify the fake's https back channel with its CA
    url, _state = flow.authorization_url()  # the consent page, plain http
    callback = fake.approve(url)  # the user presses "Allow"
    flow.fetch_token(authorization_response=callback)  # over https
    assert flow.credentials.token and flow.credentials.id_token


class FakeUser:
    """A webbrowser controller that presses "Allow" and follows the redirect."""

    def __init__(self, fake):
        self.fake = fake

    def open(self, url, new=0, autoraise=True):
        callback = self.fake.approve(url)
        # In a thread: the loopback server answers once open() has returned.
        threading.Thread(target=requests.get, args=(callback,), kwargs={"timeout": 10}).start()
        return True


def test_installed_app_flow_run_local_server(fake_google_server):
    webbrowser.register("fake-google-user", None, FakeUser(fake_google_server))
    flow = InstalledAppFlow.from_client_config(fake_google_server.client_config(), SCOPES)
    fake_google_server.trust(flow.oauth2session)
    credentials = flow.run_local_server(port=0, browser="fake-google-user", timeout_seconds=30)
    assert credentials.token and credentials.refresh_token
    first = credentials.token
    credentials.refresh(Request(fake_google_server.trust(requests.Session())))
    assert credentials.token != first
