"""Small real programs built with the system C compiler for the program checks.

Each is a working executable; the Go- and io_uring-looking ones carry exactly what the
checks look for (Go's `.go.buildinfo` section, a needed `liburing.so.2`, a runtime crate's
name in `.rodata`), since neither a Go toolchain nor liburing is installed here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MAIN = "int main(void) { return 0; }\n"
GO_MARKED = (
    '__attribute__((section(".go.buildinfo"), used)) static const char info[] = '
    '"\\xff Go buildinf:";\n' + MAIN
)
CRATE_MARKED = (
    "#include <stdio.h>\nint main(int argc, char **argv) {\n"
    '    if (argc > 5) puts("tokio-uring-0.5.0/src/runtime/mod.rs");\n    return 0;\n}\n'
)


def compiler() -> str:
    found = shutil.which("cc") or shutil.which("gcc")
    if found is None:
        pytest.skip("no C compiler here")
    return found


def build(directory: Path, name: str, source: str, *flags: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    src = directory / f"{name}.c"
    src.write_text(source)
    out = directory / name
    result = subprocess.run(
        [compiler(), "-O0", "-o", str(out), str(src), *flags],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot build {name}: {result.stderr.strip()[:200]}")
    return out


def static_program(directory: Path) -> Path:
    return build(directory, "static-prog", MAIN, "-static")


def dynamic_program(directory: Path) -> Path:
    return build(directory, "dynamic-prog", MAIN)


def go_marked_program(directory: Path) -> Path:
    return build(directory, "go-prog", GO_MARKED)


def liburing_program(directory: Path) -> Path:
    """Linked against a stand-in `liburing.so.2` (an empty library of that soname)."""
    stub = build(directory, "liburing.so.2", "void io_uring_stub(void) {}\n", "-shared", "-fPIC")
    flags = ("-Wl,--no-as-needed", str(stub), f"-Wl,-rpath,{directory}")
    return build(directory, "uring-prog", MAIN, *flags)


def crate_marked_program(directory: Path) -> Path:
    return build(directory, "crate-prog", CRATE_MARKED)
