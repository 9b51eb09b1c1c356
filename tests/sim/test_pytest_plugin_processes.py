"""A user's suite whose tests start programs through the fixtures, then fail, are
interrupted, or time out: no program outlives pytest, and none holds pytest's stdout."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("nc") is None, reason="nc is not installed")

# Each test records the listener's pid (its process group id) before it goes wrong.
USER_SUITE = """
import os
import signal
import time
from pathlib import Path

import pytest


def start_listener(tunnel, name):
    proc = tunnel.listen(["nc", "-l", str(tunnel.listener_port)])
    Path(os.environ["PIDS_DIR"], name).write_text(str(proc.pid))
    return proc


def test_fails_with_a_listener_running(streams_tunnel):
    start_listener(streams_tunnel, "failed")
    assert False, "the user's assertion fails"


def test_interrupted_with_a_listener_running(streams_tunnel_shared):
    start_listener(streams_tunnel_shared, "interrupted")
    # Ctrl-C in the terminal; Python ignores SIGINT when started with it ignored (by a
    # shell's background job), where a terminal's would not.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)
"""

TIMEOUT_SUITE = """
import os
import time
from pathlib import Path

import pytest


@pytest.mark.timeout(6, method="thread", func_only=True)  # ends pytest with os._exit
def test_times_out_with_a_listener_running(streams_tunnel):
    proc = streams_tunnel.listen(["nc", "-l", str(streams_tunnel.listener_port)])
    Path(os.environ["PIDS_DIR"], "timed-out").write_text(str(proc.pid))
    time.sleep(60)
"""


def _live_members(pgid: int) -> list[int]:
    """Processes (not zombies) whose process group is `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # /proc/PID/stat: pid (comm) state ppid pgrp ...; comm may hold spaces.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


def _run_user_suite(tmp_path: Path, source: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp_path / "test_user.py").write_text(source)
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "ORBIT_SIM_"))}
    env["PIDS_DIR"] = str(pids_dir)
    # `-s`: the programs inherit pytest's real stdout, the pipe read here. A program left
    # running would hold it open and this run() would hang, as the calling shell did.
    argv = [sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider", "-c", os.devnull]
    try:
        result = subprocess.run(
            [*argv, "--rootdir", str(tmp_path), str(tmp_path / "test_user.py")],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
        )
    finally:
        for pid_file in pids_dir.iterdir():  # never leave a leak of this test behind
            with contextlib.suppress(OSError):
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    return result, pids_dir


def _leftovers(pids_dir: Path) -> dict[str, list[int]]:
    groups = {f.name: int(f.read_text()) for f in pids_dir.iterdir()}
    return {name: _live_members(pgid) for name, pgid in groups.items() if _live_members(pgid)}


def test_failing_and_interrupted_tests_leave_no_program_behind(tmp_path: Path) -> None:
    result, pids_dir = _run_user_suite(tmp_path, USER_SUITE)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "1 failed" in output and "KeyboardInterrupt" in output, output
    assert sorted(p.name for p in pids_dir.iterdir()) == ["failed", "interrupted"]
    assert _leftovers(pids_dir) == {}


def test_a_test_killed_by_pytest_timeout_leaves_no_program_behind(tmp_path: Path) -> None:
    result, pids_dir = _run_user_suite(tmp_path, TIMEOUT_SUITE)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Timeout" in output, output
    assert [p.name for p in pids_dir.iterdir()] == ["timed-out"]
    assert _leftovers(pids_dir) == {}


def test_kill_all_ends_what_the_programs_started_too() -> None:
    from orbit_sim.process_groups import ProcessGroups

    with ProcessGroups() as groups:
        # A shell whose two children would hold its stdout pipe after the shell is gone.
        proc = groups.spawn(["sh", "-c", "sleep 300 & sleep 300 & wait"], stdout=subprocess.PIPE)
        for _ in range(500):
            if len(_live_members(proc.pid)) == 3:
                break
            time.sleep(0.01)
        assert len(_live_members(proc.pid)) == 3
    assert _live_members(proc.pid) == []
    assert proc.stdout is not None and proc.stdout.closed
    assert proc.returncode == -signal.SIGKILL
