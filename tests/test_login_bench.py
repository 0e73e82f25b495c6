"""``benchmarks/login_bench.py`` keeps working: a tiny run logs every implementation in.

No timing is asserted (the figures belong in ``docs/performance.md``); the run
fails on its own if a login does not end in two redirects or a round does not
send exactly one token request per login.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.integration


def test_a_short_run_logs_every_implementation_in_over_one_kept_alive_connection(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "login_bench.py"),
            "--rounds=2",
            "--per-round=3",
            "--warmup=2",
            "--impls=floor,ours,ours-tmpfs",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = re.compile(r"^(floor|ours|ours-tmpfs) +\d+\.\d+ ", re.MULTILINE)
    rows = {
        match.group(1): result.stdout[match.start() :].split("\n", 1)[0].split()
        for match in table.finditer(result.stdout)
    }
    assert "floor" in rows and "ours" in rows
    for name, columns in rows.items():
        token, certs, new_connections = (float(value) for value in columns[5:8])
        assert token == 1.0, name  # one token request per login
        assert certs == 0.0, name  # the signing keys are cached
        assert new_connections == 0.0, name  # the pool's connection is kept alive
    sizes = re.search(r"^ours +bytes: pending_record (\d+)", result.stdout, re.MULTILINE)
    assert sizes and 0 < int(sizes.group(1)) <= 200  # the pending record's budget
    assert "worst ratio ours/floor" in result.stdout
    assert "paired ratio to the floor" in result.stdout
