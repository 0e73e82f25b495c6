"""Run pytest on generated test files in a fresh process, as a user's suite would run.

``pytester`` cannot be enabled from this (non-root) conftest, so the plugin's
end-to-end tests start ``python -m pytest`` themselves: that also proves the
plugin is found through its installed ``pytest11`` entry point.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Run:
    """The outcome of one inner pytest run."""

    returncode: int
    output: str

    def outcomes(self) -> dict[str, int]:
        """``{"passed": 3, "failed": 1, ...}`` from the summary line."""
        summary = self.output.strip().splitlines()[-1] if self.output.strip() else ""
        return {
            word: int(count)
            for count, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary)
        }


@pytest.fixture
def run_pytest(tmp_path: Path):
    """``run_pytest({"test_x.py": "..."}, "-q")`` runs pytest in a temporary project."""

    def run(files: dict[str, str], *args: str) -> Run:
        for name, text in files.items():
            (tmp_path / name).write_text(textwrap.dedent(text))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PY_COLORS"] = "0"
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Run(completed.returncode, completed.stdout + completed.stderr)

    return run
