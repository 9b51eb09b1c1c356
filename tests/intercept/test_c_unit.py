"""The C core's own unit tests (libintercept/tests/test_core.c), built with zig for this
machine and linked without the hooks."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.intercept.conftest import ROOT


def test_core_unit_tests(build_module, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = build_module.build_program(
        build_module.host_arch(),
        [*build_module.core_sources(), ROOT / "libintercept" / "tests" / "test_core.c"],
        tmp_path / "test_core",
        ["-I", str(ROOT / "libintercept" / "src" / "core")],
    )
    result = subprocess.run([program], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:-1] == [
        "ok sha256 hmac",
        "ok ids",
        "ok contact",
        "ok addrmap",
        "ok gsla",
    ]
