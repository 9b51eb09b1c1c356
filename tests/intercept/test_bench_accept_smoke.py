"""benchmarks/bench_accept.py still runs end to end (a smoke run; no timing checked)."""

from __future__ import annotations

import subprocess
import sys

from tests.intercept.conftest import ROOT


def test_accept_benchmark_prints_every_row(built_library) -> None:  # type: ignore[no-untyped-def]
    script = ROOT / "benchmarks" / "bench_accept.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--timeout-ms", "30"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("blocking", "1"),
        ("blocking", "10"),
        ("epoll", "1"),
        ("epoll", "10"),
    ]
    assert "stalled" not in result.stdout  # every authenticated connection got through
