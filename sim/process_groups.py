"""Programs started for a test, each in a process group of its own, killed group-wide.

A program such as `nc -l` that a test starts and never waits for must not outlive the test:
left running it keeps the caller's stdout pipe open and the calling shell hangs. So every
program starts as the leader of a new session (hence its own process group, which its
children join), and `ProcessGroups.kill_all()` kills each group with SIGKILL.

Teardown does not run when pytest itself dies (pytest-timeout's `thread` method calls
`os._exit`, or pytest is killed). For that, a small reaper process, started once per
interpreter, holds the read end of a pipe on which this process announces each group; when
the pipe closes (this process exited, however it exited) it kills every group still
announced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

__all__ = ["ProcessGroups", "kill_group", "spawn"]

# Run with `python -I -S -c`: only the standard library, no site imports, so it starts fast.
# "+PGID" announces a group, "-PGID" forgets it; at EOF it kills what is left.
_REAPER_SOURCE = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = set()
for line in sys.stdin:
    if line[:1] == "+":
        groups.add(int(line[1:]))
    elif line[:1] == "-":
        groups.discard(int(line[1:]))
for pgid in groups:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
"""


class _Reaper:
    """The per-interpreter watchdog that kills announced groups if this process dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner_pid = 0

    def _pipe(self) -> IO[bytes] | None:
        # A forked child (xdist worker, multiprocessing) needs a reaper of its own.
        if self._proc is None or self._owner_pid != os.getpid():
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _REAPER_SOURCE],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal must not stop it first
            )
            self._owner_pid = os.getpid()
        return self._proc.stdin

    def _send(self, line: str) -> None:
        with self._lock:
            if line[0] == "-" and self._proc is None:
                return
            pipe = self._pipe()
            if pipe is None:
                return
            with contextlib.suppress(OSError):
                pipe.write(line.encode() + b"\n")
                pipe.flush()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}")


_reaper = _Reaper()


def spawn(argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ARGV as the leader of a new process group (Popen keywords pass through)."""
    popen["start_new_session"] = True
    proc: subprocess.Popen[bytes] = subprocess.Popen(list(argv), **popen)
    _reaper.watch(proc.pid)
    return proc


def kill_group(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Kill PROC's whole process group, reap PROC and close the pipes the test held."""
    # The group id is the leader's pid (start_new_session); the leader may have exited
    # while children it started still hold the group, and the pipes.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    _reaper.forget(proc.pid)


class ProcessGroups:
    """The programs one test (or one tunnel) started; `kill_all()` ends every group."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[Any]] = []
        self._lock = threading.Lock()

    def spawn(self, argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
        proc = spawn(argv, **popen)
        with self._lock:
            self._procs.append(proc)
        return proc

    def run(
        self, argv: Sequence[str], *, timeout: float, **popen: Any
    ) -> subprocess.CompletedProcess[str]:
        """Like `subprocess.run(..., capture_output=True, text=True)`, group-killed on a
        timeout or an interrupt (KeyboardInterrupt) instead of leaving children behind."""
        proc = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            kill_group(proc)
            raise
        _reaper.forget(proc.pid)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    @property
    def running(self) -> list[subprocess.Popen[Any]]:
        with self._lock:
            return [proc for proc in self._procs if proc.poll() is None]

    def kill_all(self) -> None:
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            kill_group(proc)

    def __enter__(self) -> ProcessGroups:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill_all()
