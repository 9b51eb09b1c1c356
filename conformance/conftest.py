"""Shared pieces of the end-to-end suites: payloads, hashes, process clean-up."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

import pytest

PAYLOAD_SIZE = 2 * 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def payload() -> bytes:
    """Random bytes: a stream that survives intact proves the path end to end."""
    return os.urandom(PAYLOAD_SIZE)


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (scripts/install.sh installs them)")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; whatever is still running afterwards is killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


class Output:
    """Collects a process's stdout in a thread, so a full pipe never stalls the stream."""

    def __init__(self, proc: subprocess.Popen[bytes], stdin: bytes | None = None) -> None:
        self._proc = proc
        self._stdin = stdin
        self._out = b""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._out, _ = self._proc.communicate(self._stdin)

    def result(self, timeout: float = 60) -> bytes:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"{self._proc.args[-3:]} still running after {timeout} s")
        return self._out
