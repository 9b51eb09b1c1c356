"""The C core's own tests, built with zig for this machine and linked without the hooks:
unit tests (libintercept/tests/test_core.c, also under UBSan) and a concurrency test
under ThreadSanitizer (libintercept/tests/test_threads.c)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.intercept.clang_tsan import TSAN_ENV, build_tsan_program
from tests.intercept.conftest import ROOT

C_TESTS = ROOT / "libintercept" / "tests"
CORE_INCLUDE = ["-I", str(ROOT / "libintercept" / "src" / "core")]


def _run(program: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "undefined-behaviour"])
def test_core_unit_tests(build_module, tmp_path: Path, sanitize: bool) -> None:  # type: ignore[no-untyped-def]
    ubsan = ["-fsanitize=undefined", "-fno-sanitize-trap=undefined", "-g"] if sanitize else []
    program = build_module.build_program(
        build_module.host_arch(),
        [*build_module.core_sources(), C_TESTS / "test_core.c"],
        tmp_path / "test_core",
        [*CORE_INCLUDE, *ubsan],
        native=sanitize,
    )
    result = _run(program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == [
        "ok sha256 hmac",
        "ok ids",
        "ok contact",
        "ok addrmap",
        "ok gsla",
    ]


def test_core_threads_under_thread_sanitizer(build_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = build_tsan_program(
        build_module,
        [*build_module.core_sources(), C_TESTS / "test_threads.c"],
        tmp_path / "test_threads",
    )
    result = _run(program, **TSAN_ENV)
    assert "ThreadSanitizer" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok threads\n"


def test_core_fork_while_threads_resolve(build_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = build_module.build_program(
        build_module.host_arch(),
        [*build_module.core_sources(), C_TESTS / "test_fork.c"],
        tmp_path / "test_fork",
        CORE_INCLUDE,
    )
    result = _run(program)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok fork\n"
