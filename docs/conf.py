"""Sphinx configuration of the flask-google-flow documentation.

Two things are generated at build time so they cannot drift from the code:

* the configuration reference table, from :data:`flask_google_flow.ext.config.OPTIONS`
  (the ``{google-flow-options}`` marker in ``configuration.md`` is replaced), and
* the sign-in sequence diagram, an SVG written by :mod:`_diagram` (pure Python).
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package, when not installed
sys.path.insert(0, HERE)  # _diagram and docs.examples helpers

import flask_google_flow  # noqa: E402
from flask_google_flow.ext.config import OPTIONS  # noqa: E402

project = "flask-google-flow"
author = "flask-google-flow developers"
copyright = "flask-google-flow developers"
release = flask_google_flow.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated/*.md", "examples", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"flask-google-flow {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Built with ``-n`` (nitpicky) in CI and tox: every cross-reference must resolve.
# Names of other libraries cannot (no intersphinx: the build must work offline),
# nor can the standard library's; they are listed here, nothing of this package is.
_THIRD_PARTY = (
    "flask",
    "werkzeug",
    "google",
    "requests",
    "urllib3",
    "redis",
    "blinker",
    "cachelib",
    "flask_session",
    "oauthlib",
    "requests_oauthlib",
    "responses",
    "pytest",
    "_pytest",
    "cryptography",
    "sqlalchemy",
    "pymongo",
    "markupsafe",
    "jinja2",
    "webbrowser",
    "wsgiref",
    "http",
    "socketserver",
    "collections",
    "typing",
    "abc",
    "os",
    "threading",
    "_thread",
    "contextlib",
    "contextvars",
    "datetime",
    "logging",
    "types",
    "pathlib",
    "ssl",
    "socket",
    "json",
    "warnings",
    "concurrent",
    "queue",
    "argparse",
    "io",
    "enum",
    "dataclasses",
    "re",
    "time",
    "urllib",
    "email",
    "hashlib",
    "hmac",
    "secrets",
)
# Names in signatures written under ``from __future__ import annotations``.
autodoc_type_aliases = {
    "GoogleFlow": "flask_google_flow.GoogleFlow",
    "StoreCallback": "flask_google_flow.ext.storage.StoreCallback",
    "LoadCallback": "flask_google_flow.ext.storage.LoadCallback",
    "DeleteCallback": "flask_google_flow.ext.storage.DeleteCallback",
    "FetchFunction": "flask_google_flow.core.id_token.FetchFunction",
}
nitpick_ignore_regex = [
    (r"py:.*", rf"({'|'.join(_THIRD_PARTY)})(\..*)?"),
    # Built-in types and names autodoc writes without a module.
    (
        r"py:.*",
        r"(Any|Callable|Iterable|Iterator|Mapping|MutableMapping|Sequence|Set|"
        r"NoneType|None|Flask|Blueprint|Response|Credentials|Path|PathLike|Request|"
        r"Session|TracebackType|TypeVar|FlaskClient|TestResponse|_SansIOResponse|"
        r"Timeout|SessionInterface|SessionMixin|Markup|WebApplicationClient|Engine|"
        r"t\..*|c\..*|cabc\..*)",
    ),
    # Of this package, only what has no page: type variables, the private
    # modules of the testing kit, and AppState's dataclass signature, whose
    # ``GoogleFlow`` annotation autodoc cannot qualify.
    (
        r"py:class",
        r"flask_google_flow\..*\.(F|_FlowT|ViewT|_ResponseT|_Progress)|_Progress"
        r"|flask_google_flow\.testing\._.*|GoogleFlow",
    ),
    # dict's inherited docstrings (Settings-like mappings) use a free-text notation.
    (r"py:class", r".* D.*|v, remove .*|None\. .*|a set-like object.*|an object providing.*"),
]

doctest_global_setup = """
from flask_google_flow.core.redirects import safe_next_url
"""

OPTIONS_MARKER = "{google-flow-options}"


def _markdown_cell(text: str) -> str:
    """A table cell: reST ``literals`` become Markdown code spans, pipes escaped."""
    return text.replace("``", "`").replace("|", "\\|").replace("\n", " ")


def _default(value: object) -> str:
    if value is None:
        return "not set"
    if isinstance(value, tuple):
        return "`" + " ".join(value) + "`" if value else "(none)"
    return f"`{value!r}`"


def options_table() -> str:
    """The configuration reference, one definition-list entry per option (from ``OPTIONS``).

    A definition list rather than a four-column table: the long config keys and
    sentences of a table do not fit the page's column on a laptop screen.
    """
    lines = []
    for option in OPTIONS:
        lines.append(f"`{option.config_key}`")
        lines.append(
            f": argument `{option.name}`, default {_default(option.default)}. "
            f"{_markdown_cell(option.doc)}"
        )
        lines.append("")
    return "\n".join(lines)


def _replace_marker(app, docname, source):
    if OPTIONS_MARKER in source[0]:
        source[0] = source[0].replace(OPTIONS_MARKER, options_table())


def _write_diagrams(app):
    import _diagram

    out = os.path.join(app.srcdir, "_generated")
    os.makedirs(out, exist_ok=True)
    _diagram.write(os.path.join(out, "sign-in-sequence.svg"))


def setup(app):
    app.connect("builder-inited", _write_diagrams)
    app.connect("source-read", _replace_marker)
    return {"parallel_read_safe": True}
