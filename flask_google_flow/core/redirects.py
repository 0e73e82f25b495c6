"""The ``next`` rule: where the browser may be sent after signing in.

Only same-origin relative paths are accepted. :func:`safe_next_url` never
raises: anything it cannot prove harmless is replaced by the default, so an
open-redirect attempt ends on the home page instead of an attacker's site.

A value is accepted only if it, its NFKC normal form (which folds look-alikes
such as the full-width solidus U+FF0F into ``/``) and every percent-decoded
form of it (decoded up to three times, which covers double encoding):

- starts with exactly one ``/`` (not ``//``, not ``/\\``);
- contains no backslash anywhere (browsers treat ``\\`` like ``/``);
- contains no control or other non-printable character (CR/LF header
  injection, TAB and NUL, which browsers strip so ``/<TAB>/evil`` becomes
  ``//evil``, and Unicode line/paragraph separators);
- has neither a scheme (``javascript:``, ``https:``) nor a network location;

and the value is at most :data:`MAX_NEXT_URL_LENGTH` characters long.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

__all__ = ["MAX_NEXT_URL_LENGTH", "safe_next_url"]

#: The longest ``next`` value accepted, in characters.
MAX_NEXT_URL_LENGTH = 2048

_DECODE_ROUNDS = 3


def _is_safe_form(value: str) -> bool:
    """Whether one form of the value (raw, normalized or decoded) is a safe path."""
    if not value.startswith("/") or value[1:2] in ("/", "\\"):
        return False
    if "\\" in value or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return not parts.scheme and not parts.netloc


def _forms(value: str) -> list[str]:
    """The raw value, its NFKC form and its successive percent-decodings."""
    forms = [value]
    normalized = unicodedata.normalize("NFKC", value)
    if normalized != value:
        forms.append(normalized)
    current = value
    for _ in range(_DECODE_ROUNDS):
        if "%" not in current:
            break
        decoded = unquote(current)
        if decoded == current:
            break
        forms.append(decoded)
        normalized = unicodedata.normalize("NFKC", decoded)
        if normalized != decoded:
            forms.append(normalized)
        current = decoded
    return forms


def safe_next_url(value: str | None, *, default: str = "/") -> str:
    """Return ``value`` if it is a safe same-origin relative path, else ``default``.

    :param value: the untrusted ``next`` parameter (from a query string or a
        form), or ``None`` when there was none.
    :param default: what to return when ``value`` is missing or refused; the
        caller's own value, not checked here.
    :returns: ``value`` unchanged when it passes every rule of this module,
        otherwise ``default``. Never raises.
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NEXT_URL_LENGTH:
        return default
    try:
        forms = _forms(value)
    except ValueError:
        return default
    if all(_is_safe_form(form) for form in forms):
        return value
    return default
