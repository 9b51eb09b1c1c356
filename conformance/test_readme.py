"""The README's examples run as shown: the quickstart shell block and the pytest example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conformance.conftest import need

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _block(language: str, containing: str) -> str:
    blocks = re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)
    return next(b for b in blocks if containing in b)


def test_quickstart_block_streams_hello(tmp_path: Path) -> None:
    need("nc")
    script = _block("sh", "orbit-sim serve").replace("/tmp/", f"{tmp_path}/")
    # The block leaves the simulator and the listener running; a real user stops them.
    script += "\nwait %2\nkill %1\nwait\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "ORBIT_SIM_"))}
    result = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "hello", result.stdout + result.stderr


def test_pytest_plugin_example_passes(tmp_path: Path) -> None:
    need("nc")
    (tmp_path / "test_example.py").write_text(_block("python", "def test_"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
