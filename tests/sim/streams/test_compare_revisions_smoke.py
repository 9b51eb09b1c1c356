"""benchmarks/compare_revisions.py still runs end to end against a revision of this
repository, and leaves no worktree behind (a smoke run; no timing checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def worktrees() -> list[str]:
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listing.stdout.splitlines() if line.startswith("worktree ")]


def test_compare_revisions_prints_both_and_cleans_up(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # Its worktrees go under this test's own TMPDIR: another run of this test (another
    # Python's leg, side by side) adds and removes its own elsewhere.
    ours = str(tmp_path.resolve())
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "compare_revisions.py"),
            "HEAD",
            "--connections",
            "5",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "TMPDIR": ours},
    )
    assert result.returncode == 0, result.stderr
    summary = result.stdout.split("alternated rounds", 1)[1].splitlines()[1:]
    assert [line.split()[0] for line in summary] == ["working", "HEAD"]
    assert [tree for tree in worktrees() if ours in tree] == []
