"""Glue between Google client configurations, ``requests-oauthlib`` and ``google-auth``.

A drop-in replacement for ``google_auth_oauthlib.helpers``: the same three
functions with the same signatures. Most code uses
:class:`flask_google_flow.flow.Flow` instead.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Any

import google.oauth2.credentials
import requests_oauthlib

from .core.client_secrets import load_client_secrets_file, validate_client_config
from .core.oauth_client import build_session

__all__ = [
    "credentials_from_session",
    "session_from_client_config",
    "session_from_client_secrets_file",
]


def session_from_client_config(
    client_config: Mapping[str, Any] | str, scopes: Sequence[str] | None, **kwargs: Any
) -> tuple[requests_oauthlib.OAuth2Session, dict[str, Any]]:
    """Build an :class:`requests_oauthlib.OAuth2Session` for a Google client configuration.

    The session is a :class:`~flask_google_flow.core.oauth_client.FlowSession`
    on a :class:`~flask_google_flow.core.oauth_client.FlowClient`: the loopback
    transport rule, a default timeout, no redirects from the token endpoint and
    the token-response checks of :class:`~flask_google_flow.flow.Flow` apply to
    it too.

    :param client_config: the client configuration in Google's client-secrets
        format (a ``web`` or ``installed`` key), or that document as JSON text.
    :param scopes: the scopes to request.
    :param kwargs: passed on to :class:`requests_oauthlib.OAuth2Session`
        (for example ``redirect_uri`` or ``state``).
    :returns: the new session and the validated (whole) client configuration.
    :raises ValueError: (:class:`~flask_google_flow.exceptions.ClientSecretsError`)
        if the configuration is not in the expected format.
    """
    client_type, config = validate_client_config(client_config)
    return build_session(config[client_type]["client_id"], scopes, **kwargs), config


def session_from_client_secrets_file(
    client_secrets_file: str | os.PathLike[str], scopes: Sequence[str] | None, **kwargs: Any
) -> tuple[requests_oauthlib.OAuth2Session, dict[str, Any]]:
    """Build an :class:`requests_oauthlib.OAuth2Session` from a client-secrets file.

    :param client_secrets_file: path of the JSON file from the Google API console.
    :param scopes: the scopes to request.
    :param kwargs: passed on to :class:`requests_oauthlib.OAuth2Session`.
    :returns: the new session and the validated (whole) client configuration.
    :raises ValueError: (:class:`~flask_google_flow.exceptions.ClientSecretsError`)
        naming the file, if it is missing, unreadable, not JSON or malformed.
    """
    _client_type, config = load_client_secrets_file(client_secrets_file)
    return session_from_client_config(config, scopes, **kwargs)


def expiry_from_timestamp(timestamp: float) -> datetime.datetime:
    """A unix timestamp as the naive-UTC ``datetime`` google-auth's ``expiry`` expects."""
    return datetime.datetime.fromtimestamp(float(timestamp), datetime.timezone.utc).replace(
        tzinfo=None
    )


def _expiry(token: Mapping[str, Any]) -> datetime.datetime | None:
    expires_at = token.get("expires_at")
    return None if expires_at is None else expiry_from_timestamp(expires_at)


def credentials_from_session(
    session: requests_oauthlib.OAuth2Session, client_config: Mapping[str, Any] | None = None
) -> google.oauth2.credentials.Credentials:
    """Build Google credentials from a session that holds a token.

    :param session: an OAuth 2.0 session on which a token has been fetched.
    :param client_config: the inner client configuration (for a web client
        ``config["web"]``), which supplies ``token_uri``, ``client_id`` and
        ``client_secret`` so the credentials can refresh themselves. A
        configuration with a ``3pi`` key yields external-account
        authorized-user credentials, as in ``google_auth_oauthlib``.
    :returns: new credentials carrying the access token, refresh token, ID
        token, the scopes, the scopes actually granted (``granted_scopes``, from
        the token response's ``scope``) and the expiry (naive UTC, or ``None``
        when the provider gave no lifetime). When the provider reported the
        granted scopes, ``scopes`` is that set, so refreshing the credentials
        never asks for a scope the user did not grant; otherwise it is the
        session's requested ``scope``.
    :raises ValueError: if the session holds no access token.
    """
    client_config = client_config if client_config is not None else {}
    token = session.token
    if not token or not token.get("access_token"):
        raise ValueError("There is no access token for this session, did you call fetch_token?")

    granted = token.get("scope")
    if isinstance(granted, str):
        granted = granted.split()
    scopes = list(granted) if granted else session.scope

    if "3pi" in client_config:
        from google.auth import external_account_authorized_user

        credentials = external_account_authorized_user.Credentials(
            token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            token_url=client_config.get("token_uri"),
            client_id=client_config.get("client_id"),
            client_secret=client_config.get("client_secret"),
            token_info_url=client_config.get("token_info_url"),
            scopes=scopes,
        )
    else:
        credentials = google.oauth2.credentials.Credentials(
            token["access_token"],
            refresh_token=token.get("refresh_token"),
            id_token=token.get("id_token"),
            token_uri=client_config.get("token_uri"),
            client_id=client_config.get("client_id"),
            client_secret=client_config.get("client_secret"),
            scopes=scopes,
            granted_scopes=granted if granted else None,
        )
    credentials.expiry = _expiry(token)
    return credentials
