"""The example app's pages and its error pages."""

from __future__ import annotations

import logging

import requests
from flask import Blueprint, Flask, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from flask_google_flow import GoogleFlow, GoogleFlowError, ReauthorizationRequired
from flask_google_flow.errors import SessionUnavailable

from . import DRIVE_READONLY, google_flow

logger = logging.getLogger(__name__)

bp = Blueprint("example", __name__)

#: Claims shown on the profile page, in this order (when present).
PROFILE_CLAIMS = (
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "hd",
    "sub",
    "iss",
    "aud",
)


def _page_user() -> dict | None:
    """The signed-in user for the page header.

    While the session backend is down, reading the user raises
    :class:`SessionUnavailable` (a 503 page). That page is rendered with the
    same templates, so there — and only there — the user is ``None``.
    """
    try:
        return google_flow.user
    except SessionUnavailable:
        if g.get("example_session_unavailable"):
            return None
        raise


@bp.app_template_filter("show")
def show_value(value: object) -> object:
    """A claim value for people: booleans as yes/no (``email_verified``), the rest as is."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


@bp.app_context_processor
def _template_globals() -> dict:
    state = GoogleFlow.state()
    return {
        "dev_mode": current_app.config.get("EXAMPLE_DEV_MODE", False),
        "user": _page_user(),
        "authorize_endpoint": state.endpoint("authorize"),
        "logout_endpoint": state.endpoint("logout"),
        "revoke_endpoint": state.endpoint("revoke"),
    }


#: Notices on the home page after ``POST /revoke`` (by outcome) and ``POST /logout``.
NOTICES = {
    "revoked": "Access revoked: this site can no longer use your Google account.",
    "invalid": "Signed out. Google no longer knew this site's access (it was already revoked).",
    "failed": "Signed out, but Google could not confirm the revocation. You can remove "
    "this site's access at https://myaccount.google.com/permissions.",
    "none": "Signed out.",
}


@bp.route("/")
def index():
    """Home: "Sign in with Google", or a welcome for the signed-in user."""
    status_param = GoogleFlow.state().settings.revoke_status_param
    outcome = request.args.get(status_param) if status_param else None
    notice = NOTICES.get(outcome or "")
    if notice is None and request.args.get("signed_out"):
        notice = "You are signed out."
    return render_template("index.html", notice=notice)


@bp.route("/profile")
@google_flow.required
def profile():
    """The verified ID-token claims of the signed-in user."""
    user = google_flow.user
    claims = [(name, user[name]) for name in PROFILE_CLAIMS if name in user]
    scopes = sorted(google_flow.granted_scopes)
    return render_template("profile.html", claims=claims, scopes=scopes)


@bp.route("/userinfo")
@google_flow.required
def userinfo():
    """Call a Google API (OpenID userinfo) with the user's access token."""
    endpoint = GoogleFlow.state().metadata.userinfo_endpoint
    session = google_flow.authorized_session()
    try:
        response = session.get(endpoint)
    except requests.RequestException as exc:
        logger.warning("userinfo call failed: %s", type(exc).__name__)
        return _api_error("Google did not answer in time. Please try again.", 504)
    if response.status_code != 200:
        logger.warning("userinfo answered HTTP %s", response.status_code)
        return _api_error(f"Google's userinfo endpoint answered HTTP {response.status_code}.")
    return render_template("userinfo.html", endpoint=endpoint, info=response.json())


def _api_error(message: str, code: int = 502):
    page = render_template("error.html", title="Google API call failed", message=message, code=code)
    return page, code


@bp.route("/drive")
@google_flow.required(scopes=[DRIVE_READONLY])
def drive():
    """A page behind an extra scope: visiting it asks for Drive access (incremental)."""
    scopes = sorted(google_flow.granted_scopes)
    return render_template("drive.html", scope=DRIVE_READONLY, scopes=scopes)


def register_error_handlers(app: Flask) -> None:
    """Friendly pages for sign-in failures and for plain HTTP errors."""

    @app.errorhandler(GoogleFlowError)
    def sign_in_error(error: GoogleFlowError):
        if isinstance(error, ReauthorizationRequired):
            return error.get_response()  # a redirect through /authorize, not a page
        if isinstance(error, SessionUnavailable):
            g.example_session_unavailable = True
        page = render_template(
            "error.html",
            title=error.title,
            message=error.description,
            code=error.code,
            error_code=error.error_code,
        )
        # Keep the error's headers (no-store, no-referrer...): the page is ours.
        return page, error.code, error.get_headers()

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_template(
            "error.html", title=error.name, message=error.description, code=error.code
        ), error.code or 500
