"""The example runs end to end against the simulator, as documented."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_example_transfers_the_tutorial_files():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "example_globus.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "task SUCCEEDED: 3 files" in done.stdout
    assert "[SUCCEEDED] orbit example transfer" in done.stdout
    destination = done.stdout.split("destination ", 1)[1]
    assert all(name in destination for name in ("file1.txt", "file2.txt", "file3.txt"))


def test_example_needs_a_token_for_real_globus(monkeypatch):
    monkeypatch.delenv("GLOBUS_TRANSFER_TOKEN", raising=False)
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "example_globus.py"), "--real"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "GLOBUS_TRANSFER_TOKEN" in done.stderr
