"""`orbit-sim demo` runs real nc and curl through a tunnel and verifies every byte."""

import subprocess
import sys
from pathlib import Path

from conformance.conftest import need


def test_demo_streams_and_verifies() -> None:
    need("nc.openbsd", "curl")
    orbit_sim = Path(sys.executable).parent / "orbit-sim"
    result = subprocess.run(
        [str(orbit_sim), "demo", "--size-mib", "8"],
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": f"{orbit_sim.parent}:/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("match") == 2 and "MISMATCH" not in result.stdout
    assert "8,388,608" in result.stdout  # the nc stream's bytes, verified at the far end
