"""benchmarks/bench_intercept.py still runs end to end (a smoke run; no timing checked)."""

from __future__ import annotations

import subprocess
import sys

from tests.intercept.conftest import ROOT


def test_benchmark_prints_the_four_figures(built_library) -> None:  # type: ignore[no-untyped-def]
    script = ROOT / "benchmarks" / "bench_intercept.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for figure in ("connect()+close()", "getaddrinfo('localhost')", "bulk send", "globus.<tunnel>"):
        assert figure in result.stdout
    assert "processes spawned: 0" in result.stdout
