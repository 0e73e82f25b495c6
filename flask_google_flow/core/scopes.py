"""Comparing scopes the way Google reports them.

Google answers a request for ``email`` or ``profile`` by reporting the URL
forms ``https://www.googleapis.com/auth/userinfo.email`` and
``.../userinfo.profile``. Every "has the user granted what this view needs"
check therefore compares canonical forms, never raw strings.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["canonical_scope", "missing_scopes"]

_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}


def canonical_scope(scope: str) -> str:
    """The form Google reports *scope* in (``email`` → ``.../userinfo.email``)."""
    return _ALIASES.get(scope, scope)


def missing_scopes(granted: Iterable[str], needed: Iterable[str]) -> tuple[str, ...]:
    """The scopes of *needed* (as written there) that *granted* does not cover.

    :param granted: scopes the user granted, in any form.
    :param needed: scopes a view needs, in any form.
    :returns: the missing ones, in the order of *needed*, without duplicates.
    """
    have = {canonical_scope(s) for s in granted}
    missing: list[str] = []
    seen: set[str] = set()
    for scope in needed:
        canonical = canonical_scope(scope)
        if canonical not in have and canonical not in seen:
            seen.add(canonical)
            missing.append(scope)
    return tuple(missing)
