"""``docs/_check_anchors.py``: the link check CI runs on the built HTML."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_anchors", ROOT / "docs" / "_check_anchors.py")
check_anchors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_anchors)


def _site(tmp_path: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>", "utf-8")
    return tmp_path


def test_good_links_pass(tmp_path):
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="api/extension.html#GoogleFlow">x</a><a href="#top">t</a>'
            '<p id="top"></p><a href="https://example.com/#nope">ext</a>',
            "api/extension.html": '<dt id="GoogleFlow"></dt>'
            '<a href="../_modules/m.html#GoogleFlow">[source]</a>',
            "_modules/m.html": '<div id="GoogleFlow"></div>'
            '<a href="../api/extension.html">back</a>',
        },
    )
    assert check_anchors.broken_links(site) == []
    assert check_anchors.main([str(site)]) == 0


def test_a_missing_anchor_or_page_is_reported(tmp_path):
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="api.html#flask_google_flow.Gone">x</a>'
            '<a href="missing.html">y</a>',
            "api.html": '<dt id="flask_google_flow.GoogleFlow"></dt>',
        },
    )
    assert check_anchors.broken_links(site) == [
        ("index.html", "api.html#flask_google_flow.Gone"),
        ("index.html", "missing.html"),
    ]
    assert check_anchors.main([str(site)]) == 1
