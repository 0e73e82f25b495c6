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

doctest_global_setup = """
from flask_google_flow.core.redirects import safe_next_url
"""

OPTIONS_MARKER = "{google-flow-options}"


def _markdown_cell(text: str) -> str:
    """A table cell: reST ``literals`` become Markdown code spans, pipes escaped."""
    return text.replace("``", "`").replace("|", "\\|").replace("\n", " ")


def _default(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return "`" + " ".join(value) + "`" if value else "(none)"
    return f"`{value!r}`"


def options_table() -> str:
    """The configuration reference as a Markdown table, from ``config.OPTIONS``."""
    lines = [
        "| Config key | Argument | Default | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        lines.append(
            f"| `{option.config_key}` | `{option.name}` | {_default(option.default)} "
            f"| {_markdown_cell(option.doc)} |"
        )
    return "\n".join(lines) + "\n"


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
