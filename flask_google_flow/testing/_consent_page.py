"""HTML of the fake's account chooser + consent page and its error page (no JavaScript)."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ._authorization import AuthorizationRequest
from ._model import Account

_STYLE = (
    "body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
    ".banner{background:#fde68a;border:1px solid #d97706;padding:.5rem;font-weight:bold}"
    "fieldset{margin:1rem 0}button{margin-right:1rem;padding:.4rem 1.2rem}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<p class="banner" id="fake-google-banner">Fake Google (testing) — not a real '
        "Google sign-in page</p>"
        f"{body}</body></html>\n"
    )


def render_consent_page(
    request: AuthorizationRequest, accounts: Iterable[Account], action: str
) -> str:
    """Render the account chooser and consent form for ``request``.

    Stable hooks for browser tests: form ``#consent``; account radios
    ``input[name=account]`` with ids ``account-0``, ``account-1``, ... and the
    email as value; scope checkboxes ``input[name=granted_scope]`` with ids
    ``scope-0``, ... (all checked); buttons ``#allow`` and ``#cancel`` (``name=decision``).

    :param request: the validated request.
    :param accounts: accounts to offer.
    :param action: the URL the form posts back to (the authorization endpoint).
    """
    accounts = list(accounts)
    hint = (request.login_hint or "").lower()
    domain = request.hosted_domain
    # Like Google, login_hint may be the email or the sub.
    chosen = next((a for a in accounts if hint in (a.email.lower(), a.sub)), None)
    if chosen is None and domain:
        chosen = next((a for a in accounts if a.hosted_domain == domain), None)
    if chosen is None and accounts:
        chosen = accounts[0]
    hidden = "".join(
        f'<input type="hidden" name="{escape(key)}" value="{escape(value)}">'
        for key, value in request.params.items()
        if key not in {"account", "granted_scope", "decision"}
    )
    account_rows = "".join(
        f'<div><input type="radio" name="account" id="account-{index}" '
        f'value="{escape(account.email)}"{" checked" if account is chosen else ""}>'
        f'<label for="account-{index}">{escape(account.name)} &lt;{escape(account.email)}&gt;'
        "</label></div>"
        for index, account in enumerate(accounts)
    )
    scope_rows = "".join(
        f'<div><input type="checkbox" name="granted_scope" id="scope-{index}" '
        f'value="{escape(scope)}" checked><label for="scope-{index}">{escape(scope)}</label></div>'
        for index, scope in enumerate(request.scopes)
    )
    body = (
        "<h1>Sign in with Google</h1>"
        f'<p>to continue to <strong id="client-id">{escape(request.client.client_id)}'
        "</strong></p>"
        f'<form id="consent" method="post" action="{escape(action)}">{hidden}'
        f"<fieldset><legend>Choose an account</legend>{account_rows}</fieldset>"
        f"<fieldset><legend>Allow access to</legend>{scope_rows}</fieldset>"
        '<button type="submit" id="allow" name="decision" value="allow">Allow</button>'
        '<button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>'
        "</form>"
    )
    return _page("Fake Google (testing) — Sign in", body)


def render_error_page(error: str, description: str) -> str:
    """Render Google's "Error 400" page for a request that cannot be redirected back."""
    body = (
        f'<h1 id="error">Error 400: {escape(error)}</h1>'
        f'<p id="error-description">{escape(description)}</p>'
    )
    return _page(f"Fake Google (testing) — Error 400: {error}", body)
