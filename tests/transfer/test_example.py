"""radical.orbit's own examples/example_globus.py, unmodified from its sdist, runs to SUCCEEDED
against our plugin on a real broker and endpoint, with only GLOBUS_ACCESS_TOKEN set (and
the broker URL radical.orbit itself needs). The repository's example does the same."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from .conftest import ROOT
from .orbit_stack import their_example

CACHE = ROOT / ".cache"


def run_while_time_passes(simenv, command: list[str], env: dict[str, str]):
    """Run a script while simulated time moves on, as real Globus time would."""
    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.1):
            simenv.control.advance(1)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    finally:
        done.set()
        ticker.join()


def test_radical_orbits_own_example_succeeds(orbit, runtime, simenv):
    example = their_example(CACHE)
    env = {**orbit.client_env(), "GLOBUS_ACCESS_TOKEN": simenv.user_tokens()["access_token"]}
    done = run_while_time_passes(simenv, [sys.executable, str(example)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Final status: SUCCEEDED (3 files" in done.stdout
    listed = done.stdout.split("now has", 1)[1]
    assert all(name in listed for name in ("file1.txt", "file2.txt", "file3.txt"))


def test_our_example_succeeds(orbit, runtime, simenv):
    env = {**orbit.client_env(), "GLOBUS_ACCESS_TOKEN": simenv.user_tokens()["access_token"]}
    script = Path(ROOT / "examples" / "example_globus.py")
    done = run_while_time_passes(simenv, [sys.executable, str(script)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCEEDED: 3 files" in done.stdout
    assert "transfer_status" in done.stdout
