"""A safe one-word name of why an HTTP call failed, for logs and messages.

``requests`` wraps the real cause of a failed connection (a name that does not
resolve, a refused connection, a TLS failure) in ``urllib3``'s
``MaxRetryError``; its documented ``reason`` attribute is the cause. The name
says what went wrong without the URL, host or anything sent.
"""

from __future__ import annotations

__all__ = ["failure_kind"]


def failure_kind(exc: BaseException) -> str:
    """``"SSLError"``, ``"ConnectionError: NameResolutionError"``... for a ``requests`` error.

    :param exc: an exception raised by :mod:`requests` (or any exception).
    :returns: the exception's class name, followed by the class name of
        ``urllib3``'s underlying reason when there is a different one.
    """
    name = type(exc).__name__
    wrapped = exc.args[0] if exc.args else None
    reason = getattr(wrapped, "reason", None)
    if isinstance(reason, BaseException):
        inner = type(reason).__name__
        if inner != name:
            return f"{name}: {inner}"
    return name
