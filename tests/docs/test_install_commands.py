"""Every install command in README, CONTRIBUTING and the docs works as written from a clone.

The package is not on PyPI yet, so ``pip install flask-google-flow`` may only
appear marked as what it will be once released. The commands from a clone
(``pip install -e .``, a local wheel) are checked for their form here, and the
wheel command is run for real (offline) in the integration test.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts),
]
RELEASED_NOTE = "once released on PyPI"
FENCE = re.compile(r"^(```|~~~)[^\n]*\n(.*?)^\1", re.M | re.S)


def install_lines() -> list[tuple[str, str]]:
    """``(page, line)`` for every ``pip install`` line inside a fenced code block."""
    found = []
    for page in PAGES:
        for match in FENCE.finditer(page.read_text(encoding="utf-8")):
            for line in match.group(2).splitlines():
                if re.search(r"\bpip install\b", line):
                    found.append((str(page.relative_to(ROOT)), line.strip()))
    return found


def pip_install_targets(line: str) -> list[list[str]]:
    """The argument lists of each ``pip install`` in a shell line (``&&``-chained)."""
    code = line.split(" #", 1)[0]
    commands = []
    for part in re.split(r"&&|;|\|\|", code):
        words = shlex.split(part)
        if "pip" in words and words[words.index("pip") + 1 : words.index("pip") + 2] == ["install"]:
            commands.append(words[words.index("pip") + 2 :])
    return commands


def test_the_pages_have_install_commands():
    pages = {page for page, _ in install_lines()}
    assert {"README.md", "docs/quickstart.md", "CONTRIBUTING.md"} <= pages


@pytest.mark.parametrize(("page", "line"), install_lines())
def test_each_install_command_works_from_a_clone(page, line):
    for arguments in pip_install_targets(line):
        targets = [a for a in arguments if not a.startswith("-") or a == "-e"]
        targets = [t for t in targets if t != "-e"]
        for target in targets:
            if target.startswith(("flask-google-flow", "flask_google_flow")):
                assert RELEASED_NOTE in line, (
                    f"{page}: {line!r} installs from PyPI, where the package is not yet; "
                    f"install from the clone, or mark the line '# {RELEASED_NOTE}'"
                )
                continue
            local = target.split("[", 1)[0].strip("'\"")
            if local == ".":
                assert (ROOT / "pyproject.toml").exists()
                extras = re.findall(r"\[([^\]]*)\]", target)
                for extra in ",".join(extras).split(","):
                    if extra:
                        assert f"\n{extra} = " in (ROOT / "pyproject.toml").read_text(), (
                            f"{page}: extra {extra!r} is not in pyproject.toml"
                        )
            elif local.startswith("dist/"):
                assert "pip wheel" in line and "-w dist" in line, (
                    f"{page}: {line!r} installs a wheel the same line does not build"
                )
            else:
                assert RELEASED_NOTE in line or "# " in line, (
                    f"{page}: {target!r} is a third-party package: say what it is for"
                )


@pytest.mark.integration
def test_the_local_wheel_command_builds_an_installable_wheel(tmp_path):
    # The documented command (its build backend comes from the configured index).
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = glob.glob(str(tmp_path / "flask_google_flow-*.whl"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index", wheel],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "flask-google-flow" in result.stdout.lower().replace("_", "-")
