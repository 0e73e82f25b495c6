"""Answering the fake Google's consent page over real HTTP, as a person with a browser would."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _ConsentForm(HTMLParser):
    """The ``#consent`` form's action, hidden fields, accounts and scope boxes."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.accounts: list[str] = []
        self.scopes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form" and values.get("id") == "consent":
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")
        elif tag == "input" and values.get("name") == "account":
            self.accounts.append(values["value"])
        elif tag == "input" and values.get("name") == "granted_scope":
            self.scopes.append(values["value"])


def click_allow(
    http: requests.Session, authorization_url: str, account: str | None = None
) -> requests.Response:
    """GET the consent page, pick *account* (default: the first), press *Allow*.

    :returns: the fake's answer, a 302 to the app's callback (not followed).
    """
    page = http.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    form = _ConsentForm()
    form.feed(page.text)
    assert form.action and form.accounts, "no consent form on the page"
    data: list[tuple[str, str]] = list(form.hidden.items())
    data.append(("account", account or form.accounts[0]))
    data += [("granted_scope", scope) for scope in form.scopes]
    data.append(("decision", "allow"))
    answer = http.post(
        urljoin(authorization_url, form.action), data=data, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer
