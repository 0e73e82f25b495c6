"""Why a callback was refused: one warning per refusal, and the host-mismatch case.

Every refused ``/oauth2callback`` logs exactly one ``WARNING`` on the
``flask_google_flow`` logger, ``sign-in refused (<error_code>): <detail>``,
where the detail (:attr:`GoogleFlowError.detail
<flask_google_flow.ext.errors.GoogleFlowError.detail>`) says why — never a
code, state, token or secret.

The commonest setup mistake gets its own page
(:class:`~flask_google_flow.ext.errors.HostMismatchError`): the site opened at
``localhost`` while the redirect URI names ``127.0.0.1`` (or the reverse).
The browser keeps the session cookie per host name, so the callback arrives
without it. ``/authorize`` knows both hosts when it sends the browser away:
when they differ it writes a small record, keyed by a hash of the new state
and holding only the host the sign-in started on, into the pending-flow store
(:func:`remember_start_host`). A callback whose session has no sign-in in
progress pops that record (:func:`host_mismatch`); if the hosts differ, the
user sees which address to use.

It cannot be abused to show a stranger's text: the record can only be found
with the state (256 random bits, single use), it only exists when the request
that started the sign-in named a different host than the redirect URI, and a
host is named on the page only when it is a loopback name or a host of a
registered or configured redirect URI (other hosts are named only in the log,
``repr``-quoted).
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from ..core.hosts import is_loopback_host
from .errors import GoogleFlowError, HostMismatchError, UnknownStateError
from .state import AppState

__all__ = ["host_mismatch", "log_refusal", "remember_start_host"]

logger = logging.getLogger("flask_google_flow")

_MAX_HOST_LENGTH = 255


def _record_key(state: str) -> str:
    return hashlib.sha256(f"start-host:{state}".encode()).hexdigest()


def _netloc(uri: str) -> str:
    try:
        return urlsplit(uri).netloc.lower()
    except ValueError:
        return ""


def remember_start_host(app_state: AppState, flow_state: str, host: str, redirect_uri: str) -> None:
    """Keep the host a sign-in started on, if the redirect URI names another one.

    :param app_state: the app's state (its pending-flow store and TTL are used).
    :param flow_state: the new sign-in's ``state``.
    :param host: the request's host (``request.host``).
    :param redirect_uri: the sign-in's redirect URI.
    """
    host = host.lower()
    if not host or len(host) > _MAX_HOST_LENGTH or host == _netloc(redirect_uri):
        return
    pending = app_state.pending
    pending.store.put(_record_key(flow_state), host, pending.ttl)


def _trusted(app_state: AppState, host: str) -> bool:
    """Whether *host* may be shown on a page: loopback, or a configured redirect URI's host."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if is_loopback_host(name):
        return True
    known = {
        entry.netloc for entries in app_state.redirect_uris_by_path.values() for entry in entries
    }
    if app_state.settings.redirect_uri:
        known.add(_netloc(app_state.settings.redirect_uri))
    return host in known


def host_mismatch(
    app_state: AppState, error: UnknownStateError, flow_state: str | None, host: str
) -> HostMismatchError | None:
    """A :class:`~flask_google_flow.ext.errors.HostMismatchError`, or ``None``.

    For a callback whose session has no sign-in in progress.

    :param app_state: the app's state.
    :param error: why the pending flow was not found; only ``no_session``
        (the session has no sign-in in progress) is looked into.
    :param flow_state: the callback's ``state``.
    :param host: the callback request's host.
    """
    if error.reason != "no_session" or not flow_state:
        return None
    started_on = app_state.pending.store.pop(_record_key(flow_state))
    host = host.lower()
    if not started_on or started_on == host:
        return None
    show = _trusted(app_state, started_on) and _trusted(app_state, host)
    return HostMismatchError(started_on, host, show_hosts=show)


def log_refusal(error: GoogleFlowError) -> None:
    """Log the one warning of a refused callback: its error code and why."""
    detail = error.detail or error.title
    logger.warning("flask-google-flow: sign-in refused (%s): %s", error.error_code, detail)
