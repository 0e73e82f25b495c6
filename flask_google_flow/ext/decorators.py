"""``@google_flow.required(scopes=...)``: views that need a Google grant.

* Nobody signed in → ``302`` to ``/authorize?next=<this URL>`` (with
  ``scope=`` the view's scopes beyond ``GOOGLE_SCOPES``, so one consent covers both).
* Signed in but the credentials are gone (revoked, cleared after a failed
  refresh) → ``302`` to ``/authorize?next=<this URL>&prompt=consent``.
* Some of *scopes* not granted → ``302`` to
  ``/authorize?next=<this URL>&scope=<only the missing ones>``; ``/authorize``
  then asks Google with ``include_granted_scopes=true`` and the user comes back
  here after consenting.
* The user was just asked for those scopes (for this very URL) and did not
  grant them → :class:`~flask_google_flow.ext.errors.InsufficientScopesError`
  (403), not another redirect. The callback remembers what was declined in
  the session; the 403 consumes that note, so visiting the page again (a
  fresh, explicit click) asks again.

Scopes named in ``required(...)`` are added to the extension's allow-list
for ``/authorize?scope=`` (next to ``GOOGLE_FLOW_EXTRA_SCOPES``) when the
decorator is applied. Scopes compare with Google's aliases in mind
(``email`` ≡ ``https://www.googleapis.com/auth/userinfo.email``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from flask import redirect, session, url_for
from werkzeug.wrappers import Response

from ..core.scopes import canonical_scope, missing_scopes
from . import errors
from .current import current_credentials, granted_scopes
from .errors import no_store
from .refresh import current_path, sign_in_url
from .state import app_state

__all__ = ["SESSION_DECLINED_KEY", "check_access", "remember_declined"]

SESSION_DECLINED_KEY = "_google_flow_declined"
"""Session key of the scopes declined at the latest consent: ``{"next": url, "scopes": [...]}``."""


def remember_declined(
    sess: MutableMapping[str, Any],
    next_url: str,
    requested: Iterable[str],
    granted: Iterable[str],
) -> None:
    """Note in *sess* which requested scopes the consent for *next_url* left out."""
    declined = missing_scopes(granted, requested)
    if declined:
        sess[SESSION_DECLINED_KEY] = {"next": next_url, "scopes": list(declined)}
    else:
        sess.pop(SESSION_DECLINED_KEY, None)


def _just_declined(here: str, missing: Iterable[str]) -> bool:
    note = session.get(SESSION_DECLINED_KEY)
    if not isinstance(note, dict) or note.get("next") != here:
        return False
    declined = {canonical_scope(s) for s in note.get("scopes") or ()}
    return bool(declined & {canonical_scope(s) for s in missing})


def check_access(needed: tuple[str, ...]) -> Response | None:
    """``None`` when the current user may see the view, else the redirect to send.

    :raises InsufficientScopesError: the user just declined a needed scope.
    """
    state = app_state()
    here = current_path()
    if current_credentials() is None:
        # Ask for the view's scopes in the same consent as the sign-in.
        location = sign_in_url(state, missing_scopes(state.settings.scopes, needed))
        return no_store(redirect(location, code=302))
    missing = missing_scopes(granted_scopes(), needed)
    if not missing:
        return None
    if _just_declined(here, missing):
        session.pop(SESSION_DECLINED_KEY, None)
        raise errors.InsufficientScopesError(missing)
    location = url_for(state.endpoint("authorize"), next=here, scope=" ".join(missing))
    return no_store(redirect(location, code=302))


def required(
    register_scopes: Callable[[Iterable[str]], None], scopes: Iterable[str] | str | None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Build the ``required`` decorator (see :meth:`flask_google_flow.GoogleFlow.required`)."""
    if isinstance(scopes, str):
        needed = tuple(s for s in scopes.replace(",", " ").split() if s)
    else:
        needed = tuple(scopes or ())
    register_scopes(needed)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = check_access(needed)
            if response is not None:
                return response
            return view(*args, **kwargs)

        return wrapper

    return decorator
