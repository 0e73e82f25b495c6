"""Lazy package exports (PEP 562), so importing a package costs only what is used.

The pytest plugin is loaded in every pytest run of every project that has this
package installed; with lazy exports that costs no Flask, google-auth or
cryptography import until a test actually uses them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` that import each export on first use.

    :param package: the package's ``__name__``.
    :param namespace: the package's ``globals()``; resolved names are cached there.
    :param exports: public name → relative module that defines it.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
