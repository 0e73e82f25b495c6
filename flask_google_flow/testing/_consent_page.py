"""HTML of the fake's account chooser + consent page and its error page (no JavaScript)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from html import escape

from ._authorization import AuthorizationRequest
from ._model import Account

_STYLE = (
    "body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
    ".banner{background:#fde68a;border:1px solid #d97706;padding:.5rem;font-weight:bold}"
    "fieldset{margin:1rem 0}button{margin-right:1rem;padding:.4rem 1.2rem}"
    "body{overflow-wrap:anywhere}#granted-scopes{color:#555}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<p class="banner" id="fake-google-banner">Fake Google (testing) — not a real '
        "Google sign-in page</p>"
        f"{body}</body></html>\n"
    )


def render_consent_page(
    request: AuthorizationRequest,
    accounts: Iterable[Account],
    action: str,
    *,
    granted: Callable[[Account], Set[str]] | None = None,
) -> str:
    """Render the account chooser and consent form for ``request``.

    Stable hooks for browser tests: form ``#consent``; account radios
    ``input[name=account]`` with ids ``account-0``, ``account-1``, ... and the
    email as value; scope checkboxes ``input[name=granted_scope]`` with ids
    ``scope-0``, ... (all checked) inside ``#new-scopes``; buttons ``#allow``
    and ``#cancel`` (``name=decision``).

    An incremental request (``include_granted_scopes=true``) lists the scopes
    the preselected account has already granted apart, in ``#granted-scopes``
    (kept, as hidden fields; no checkbox), and offers checkboxes only for the
    new ones, as Google's consent screen does.

    :param request: the validated request.
    :param accounts: accounts to offer.
    :param action: the URL the form posts back to (the authorization endpoint).
    :param granted: the scopes an account has already granted to the client.
    """
    accounts = list(accounts)
    hint = (request.login_hint or "").lower()
    domain = request.hosted_domain
    # Like Google, login_hint may be the email or the sub.
    chosen = next((a for a in accounts if hint in (a.email.lower(), a.sub)), None)
    if chosen is None and domain:
        chosen = next((a for a in accounts if a.hosted_domain == domain), None)
    if chosen is None and request.include_granted_scopes and granted is not None:
        # Incremental: the account that granted this client before (Google knows who).
        chosen = next((a for a in accounts if set(granted(a)) & set(request.scopes)), None)
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
    kept: set[str] = set()
    if request.include_granted_scopes and granted is not None and chosen is not None:
        kept = set(granted(chosen)) & set(request.scopes)
    new_scopes = [scope for scope in request.scopes if scope not in kept]
    scope_rows = "".join(
        f'<div><input type="checkbox" name="granted_scope" id="scope-{index}" '
        f'value="{escape(scope)}" checked><label for="scope-{index}">{escape(scope)}</label></div>'
        for index, scope in enumerate(new_scopes)
    )
    kept_rows = ""
    if kept:
        items = "".join(
            f'<li>{escape(scope)}<input type="hidden" name="granted_scope" '
            f'value="{escape(scope)}"></li>'
            for scope in request.scopes
            if scope in kept
        )
        kept_rows = (
            f'<div id="granted-scopes"><p>{escape(chosen.email) if chosen else ""} has '
            f"already given this app access to:</p><ul>{items}</ul></div>"
        )
    legend = "This app wants additional access" if kept else "Allow access to"
    body = (
        "<h1>Sign in with Google</h1>"
        f'<p>to continue to <strong id="client-id">{escape(request.client.client_id)}'
        "</strong></p>"
        f'<form id="consent" method="post" action="{escape(action)}">{hidden}'
        f"<fieldset><legend>Choose an account</legend>{account_rows}</fieldset>"
        f'<fieldset id="new-scopes"><legend>{legend}</legend>{scope_rows}</fieldset>'
        f"{kept_rows}"
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
