"""`copgraph prune-pending`: the command around contributions.prune.prune_pending (whose rules tests/test_contribute.py
checks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def prune(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"COPGRAPH_ROOT": str(tmp_path), "COPGRAPH_PENDING": str(tmp_path / "pending"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "copgraph", "prune-pending", *args], capture_output=True, text=True, env=env
    )


def test_prune_pending_reports_what_it_removed(tmp_path: Path) -> None:
    (tmp_path / "pending").mkdir()
    done = prune(tmp_path, "--older-than", "30")
    assert done.returncode == 0, done.stderr
    assert "0 file(s) removed" in done.stdout


def test_prune_pending_refuses_a_negative_age(tmp_path: Path) -> None:
    done = prune(tmp_path, "--older-than", "-1")
    assert done.returncode == 2
    assert done.stderr.strip(), "no message saying what was wrong"


def test_prune_pending_needs_an_age(tmp_path: Path) -> None:
    done = prune(tmp_path)
    assert done.returncode == 2
    assert "--older-than" in done.stderr
