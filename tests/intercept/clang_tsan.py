"""ThreadSanitizer programs built with Debian's clang (scripts/install.sh installs it): its
TSan runtime comes prebuilt, where zig compiles one from source (minutes on a busy 2-core
machine, past a test's timeout on a cold cache)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.intercept.conftest import ROOT

CORE = ROOT / "libintercept" / "src" / "core"
TSAN_ENV = {"TSAN_OPTIONS": "halt_on_error=1 exitcode=66"}


def build_tsan_program(build_module, sources: Sequence[Path], output: Path) -> Path:  # type: ignore[no-untyped-def]
    """`sources` (with the core's headers on the include path) linked into one program
    under ThreadSanitizer; skips the test when clang is missing."""
    clang = shutil.which("clang")
    if clang is None:
        pytest.skip("clang is not installed (scripts/install.sh installs it)")
    flags = ["-g", "-O1", "-fsanitize=thread", *build_module.WARNINGS, "-std=gnu11"]
    command = [clang, *flags, "-D_GNU_SOURCE", "-I", str(CORE), *map(str, sources)]
    subprocess.run([*command, "-ldl", "-lpthread", "-o", str(output)], check=True)
    return output
