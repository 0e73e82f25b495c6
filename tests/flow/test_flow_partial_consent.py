"""Partial consent, then a refresh with plain google-auth, against the fake Google in-process."""

from __future__ import annotations

import datetime

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import pytest

from flask_google_flow.flow import Flow
from flask_google_flow.testing import DEFAULT_REDIRECT_URI, FakeGoogle

DRIVE = "https://www.googleapis.com/auth/drive.readonly"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"
REQUESTED = ["openid", "email", DRIVE]


def partially_consented(fake: FakeGoogle, **flow_kwargs):
    """Sign in through the fake; the user grants openid and email, not Drive."""
    flow = Flow.from_client_config(
        fake.client_config(), REQUESTED, redirect_uri=DEFAULT_REDIRECT_URI, **flow_kwargs
    )
    url, _state = flow.authorization_url()
    callback = fake.approve(url, granted_scopes=["openid", "email"])
    flow.fetch_token(authorization_response=callback)
    return flow


def test_partial_consent_credentials_refresh_with_plain_google_auth():
    fake = FakeGoogle()
    with fake.intercept() as mock:
        flow = partially_consented(fake)
        creds = flow.credentials
        assert DRIVE not in creds.scopes
        assert set(creds.scopes) == {"openid", EMAIL}
        assert creds.granted_scopes == creds.scopes
        first_token = creds.token

        creds.refresh(google.auth.transport.requests.Request())

        body = mock.calls[-1].request.body
        body = body.decode() if isinstance(body, bytes) else body
        assert "grant_type=refresh_token" in body
        assert "drive" not in body
    assert creds.token and creds.token != first_token
    assert DRIVE not in creds.scopes


def test_the_fake_refuses_a_refresh_that_asks_for_an_ungranted_scope():
    """The check above can fail: asking for the requested (ungranted) set is refused."""
    fake = FakeGoogle()
    with fake.intercept():
        flow = partially_consented(fake)
        granted = flow.credentials
        as_requested = google.oauth2.credentials.Credentials(
            granted.token,
            refresh_token=granted.refresh_token,
            token_uri=granted.token_uri,
            client_id=granted.client_id,
            client_secret=granted.client_secret,
            scopes=REQUESTED,
        )
        with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_scope"):
            as_requested.refresh(google.auth.transport.requests.Request())


def test_expiry_is_counted_on_the_injected_clock():
    fake = FakeGoogle()
    with fake.intercept():
        flow = partially_consented(fake, clock=lambda: 1_000_000_000.0)
    token = flow.oauth2session.token
    assert token["expires_at"] == 1_000_000_000.0 + token["expires_in"]
    assert flow.credentials.expiry == datetime.datetime(2001, 9, 9, 1, 46, 40) + datetime.timedelta(
        seconds=token["expires_in"]
    )
