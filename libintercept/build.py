"""Build libglobus_streams_client.so.0 with zig (the `ziglang` package) for glibc 2.17.

    python libintercept/build.py [host|x86_64|aarch64|all] [--out DIR] [--test-library]

puts `<DIR>/<arch>/libglobus_streams_client.so.0` (default DIR: orbit_globus/_lib): the
core (src/core/*.c) and the hooks (src/hooks/*.c); it exports only the intercepted libc
calls. `--test-library` also builds, for this machine, the test library
`libintercept/build/<arch>/libglobus_streams_test.so`: the core with the `gsi_test_*`
entry points of tests/testapi.c for ctypes (orbit_globus/native.py), never installed.
Outputs are written to a temporary file and renamed, so concurrent builds (pytest-xdist
workers, pip) never see half a library; an output newer than every source is kept as is.
`build(arch, out_dir)` and `build_test_library(arch)` are the same from Python (setup.py's
build hook calls `build`).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
LIBRARY_NAME = "libglobus_streams_client.so.0"
DEFAULT_OUT = HERE.parent / "orbit_globus" / "_lib"
TEST_LIBRARY_NAME = "libglobus_streams_test.so"
TEST_OUT = HERE / "build"
TEST_API = HERE / "tests" / "testapi.c"
ARCHES = ("x86_64", "aarch64")
GLIBC = "2.17"

WARNINGS = ["-Wall", "-Wextra", "-Werror"]
COMMON_FLAGS = ["-O2", "-g0", "-std=gnu11", "-D_GNU_SOURCE", "-fPIC", *WARNINGS]
SHARED_FLAGS = ["-shared", "-fvisibility=hidden", "-Wl,-z,defs"]
LIBRARY_FLAGS = [*SHARED_FLAGS, f"-Wl,-soname,{LIBRARY_NAME}"]
# glibc < 2.34 keeps dlsym in libdl and pthread_once/pthread_atfork in libpthread.
LINK_LIBS = ["-ldl", "-lpthread"]


class BuildError(RuntimeError):
    """zig is missing or the compiler refused the sources."""


def host_arch() -> str:
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if arch not in ARCHES:
        raise BuildError(f"unsupported architecture {machine!r}; supported: {', '.join(ARCHES)}")
    return arch


def arches_for(arch: str) -> list[str]:
    if arch == "host":
        return [host_arch()]
    if arch == "all":
        return list(ARCHES)
    if arch not in ARCHES:
        raise BuildError(f"unknown architecture {arch!r}; use host, all or one of {ARCHES}")
    return [arch]


def library_sources() -> list[Path]:
    return sorted([*SOURCES.glob("core/*.c"), *SOURCES.glob("hooks/*.c")])


def core_sources() -> list[Path]:
    """The core without the hooks: what C unit tests link."""
    return sorted(SOURCES.glob("core/*.c"))


def zig_cc(arch: str) -> list[str]:
    return [sys.executable, "-m", "ziglang", "cc", "-target", f"{arch}-linux-gnu.{GLIBC}"]


def _inputs(extra: Sequence[Path] = ()) -> list[Path]:
    return [*library_sources(), *SOURCES.glob("*/*.h"), *extra, Path(__file__).resolve()]


def _up_to_date(output: Path, inputs: list[Path]) -> bool:
    if not output.exists():
        return False
    built = output.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in inputs)


def compile_to(output: Path, command: list[str]) -> Path:
    """Run a zig command that writes `-o <tmp>`, then rename the result onto `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        result = subprocess.run(
            [*command, "-o", str(tmp)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BuildError(f"zig cc failed for {output.name}:\n{result.stderr.strip()}")
        tmp.chmod(0o755)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def build_one(arch: str, out_dir: Path, force: bool = False) -> Path:
    output = Path(out_dir) / arch / LIBRARY_NAME
    if not force and _up_to_date(output, _inputs()):
        return output
    sources = [str(p) for p in library_sources()]
    return compile_to(output, [*zig_cc(arch), *COMMON_FLAGS, *LIBRARY_FLAGS, *sources, *LINK_LIBS])


def test_library_path(arch: str = "host", out_dir: str | Path = TEST_OUT) -> Path:
    return Path(out_dir) / arches_for(arch)[0] / TEST_LIBRARY_NAME


def build_test_library(
    arch: str = "host", out_dir: str | Path = TEST_OUT, force: bool = False
) -> Path:
    """The core plus the gsi_test_* entry points (no hooks) for ctypes tests."""
    output = test_library_path(arch, out_dir)
    if not force and _up_to_date(output, _inputs([TEST_API])):
        return output
    sources = [str(p) for p in [*core_sources(), TEST_API]]
    include = ["-I", str(SOURCES / "core")]
    return compile_to(
        output,
        [
            *zig_cc(arches_for(arch)[0]),
            *COMMON_FLAGS,
            *SHARED_FLAGS,
            *include,
            *sources,
            *LINK_LIBS,
        ],
    )


def build(arch: str = "host", out_dir: str | Path = DEFAULT_OUT, force: bool = False) -> list[Path]:
    """Build the library for `arch` ("host", "x86_64", "aarch64" or "all") into
    `<out_dir>/<arch>/`; returns the paths built (or already up to date)."""
    return [build_one(a, Path(out_dir), force) for a in arches_for(arch)]


def build_program(
    arch: str, sources: list[Path], output: Path, extra: Sequence[str] = (), native: bool = False
) -> Path:
    """Build a small C program (C unit tests, test clients) for `arch` against glibc 2.17,
    or, with `native`, for this machine's own libc (what sanitizer runtimes need)."""
    compiler = [sys.executable, "-m", "ziglang", "cc"] if native else zig_cc(arch)
    command = [*compiler, *COMMON_FLAGS, *extra, *map(str, sources), *LINK_LIBS]
    return compile_to(Path(output), command)


# The ASan+UBSan build (`--sanitize`): clang, because zig ships no AddressSanitizer runtime.
# The runtime is linked into the library itself (less its .preinit_array part, which a
# shared object cannot carry), so LD_PRELOAD of this one file sanitizes any host program,
# through the launcher too, with no runtime to put first in LD_PRELOAD.
SANITIZE_FLAGS = [
    "-O1",
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined,float-cast-overflow",
    "-fno-sanitize-recover=all",
]


def sanitizer_runtime(tmp: Path, clang: str = "clang") -> list[str]:
    """Link flags that put clang's ASan runtime (less its .preinit_array part) into a
    shared object, so that LD_PRELOAD of that one file sanitizes its host program."""
    runtime = subprocess.run(
        [clang, f"-print-file-name=libclang_rt.asan-{host_arch()}.a"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not runtime or not Path(runtime).is_file():
        raise BuildError(f"no ASan runtime for {clang} (apt-get install clang libclang-rt-dev)")
    trimmed = Path(tmp) / "asan.a"
    shutil.copyfile(runtime, trimmed)
    subprocess.run(["ar", "d", str(trimmed), "asan_preinit.cpp.o"], check=True)
    return ["-Wl,--whole-archive", str(trimmed), "-Wl,--no-whole-archive", "-lm", "-lrt"]


def build_sanitized(out_dir: str | Path = DEFAULT_OUT, clang: str = "clang") -> Path:
    """The host library with ASan and UBSan (halting on the first error) into
    `<out_dir>/<arch>/`, in place of the plain build; rebuilt every time."""
    with tempfile.TemporaryDirectory() as tmp:
        flags = [*COMMON_FLAGS, *SANITIZE_FLAGS, *LIBRARY_FLAGS]
        sources = [str(p) for p in library_sources()]
        command = [clang, *flags, *sources, *sanitizer_runtime(Path(tmp), clang), *LINK_LIBS]
        return compile_to(Path(out_dir) / host_arch() / LIBRARY_NAME, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", nargs="?", default="host", choices=["host", "all", *ARCHES])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output base directory")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument(
        "--test-library",
        action="store_true",
        help=f"also build {TEST_OUT}/<host>/{TEST_LIBRARY_NAME}",
    )
    parser.add_argument(
        "--sanitize", action="store_true", help="host only: the ASan+UBSan build (clang)"
    )
    args = parser.parse_args(argv)
    try:
        if args.sanitize:
            print(build_sanitized(args.out))
            return 0
        for path in build(args.arch, args.out, args.force):
            print(path)
        if args.test_library:
            print(build_test_library("host", force=args.force))
    except BuildError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
