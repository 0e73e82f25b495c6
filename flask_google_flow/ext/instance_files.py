"""Where the embedded session backend writes its files when nothing is configured.

By default that is ``<app.instance_path>/google_flow_sessions``. Test suites
must not leave token-bearing session files in a project's ``instance/``
folder, so the pytest plugin's fixtures (``flask_google_flow.testing.pytest_plugin``)
run each test inside :func:`session_dir_default`: every app whose
``init_app`` runs during that test, without ``GOOGLE_FLOW_SESSION_DIR`` set,
writes its session and pending-flow files under the test's ``tmp_path``
instead. The default lives in a :class:`contextvars.ContextVar`, so it is
scoped to the test and its thread, and reset when the fixture ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask

__all__ = ["default_pending_dir", "default_session_dir", "session_dir_default"]

_DEFAULT_DIR: ContextVar[str | None] = ContextVar("flask_google_flow_session_dir", default=None)


def default_session_dir(app: Flask) -> str:
    """The embedded backend's folder for *app* when ``GOOGLE_FLOW_SESSION_DIR`` is unset.

    Inside :func:`session_dir_default`, ``<path>/google_flow_sessions``;
    otherwise ``<instance_path>/google_flow_sessions``.
    """
    override = _DEFAULT_DIR.get()
    if override is not None:
        return os.path.join(override, "google_flow_sessions")
    return os.path.join(app.instance_path, "google_flow_sessions")


def default_pending_dir(app: Flask) -> str:
    """The filesystem pending-flow store's folder for *app* when nothing is configured.

    Inside :func:`session_dir_default`, ``<path>/google_flow_pending``;
    otherwise ``<instance_path>/google_flow_pending``.
    """
    override = _DEFAULT_DIR.get()
    return os.path.join(app.instance_path if override is None else override, "google_flow_pending")


@contextmanager
def session_dir_default(path: str | os.PathLike[str]) -> Iterator[str]:
    """Make *path* the default session folder for apps set up inside the block.

    :param path: a folder (created on first use by ``init_app``).
    :returns: (as the ``with`` target) the path as a string.
    """
    value = os.fspath(path)
    token = _DEFAULT_DIR.set(value)
    try:
        yield value
    finally:
        _DEFAULT_DIR.reset(token)
