"""Check every internal link of a built HTML site: the page exists and has the anchor.

Sphinx's nitpicky mode (``-n``) checks cross-references while building; this
checks what it cannot: the links in the built pages themselves, such as the
"[source]" links of ``sphinx.ext.viewcode`` and their way back. Run after the
HTML build: ``python docs/_check_anchors.py docs/_build/html``; it prints each
broken link and exits with status 1 if there is any.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

_HREF = re.compile(r'href="([^"]+)"')
_ID = re.compile(r'id="([^"]+)"')


def broken_links(root: Path) -> list[tuple[str, str]]:
    """``(page, href)`` for every internal link whose page or anchor is missing."""
    anchors: dict[Path, set[str] | None] = {}

    def ids_of(path: Path) -> set[str] | None:
        if path not in anchors:
            anchors[path] = set(_ID.findall(path.read_text("utf-8"))) if path.is_file() else None
        return anchors[path]

    broken = []
    for page in sorted(root.rglob("*.html")):
        relative = page.relative_to(root).as_posix()
        for href in _HREF.findall(page.read_text("utf-8")):
            href = html.unescape(href)
            if urlsplit(href).scheme or href.startswith("//"):
                continue  # external: not ours to check offline
            target = urlsplit(urljoin(relative, href))
            path = root / unquote(target.path or relative)
            if target.path.endswith("/") or path.is_dir():
                path = path / "index.html"
            ids = ids_of(path.resolve())
            if ids is None or (target.fragment and unquote(target.fragment) not in ids):
                broken.append((relative, href))
    return broken


def main(argv: list[str]) -> int:
    """Print the broken links under ``argv[0]``; 1 if there are any."""
    problems = broken_links(Path(argv[0]))
    for page, href in problems:
        print(f"{page}: broken link {href}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
