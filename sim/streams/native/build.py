"""Build the simulator's native TLS relay loop (`tls_relay.c`) with zig.

    python sim/streams/native/build.py [--arch x86_64|aarch64] [--out DIR] [--force]
    python sim/streams/native/build.py --sanitize


puts `<DIR>/<arch>/liborbit_sim_tls_relay.so`, by default for this machine into `_lib/`
next to this file (setup.py builds it into the package the same way). It links no
OpenSSL: the loop takes its functions from the libssl the interpreter's ssl module
loaded. Without the library the simulator's TLS relays stay in Python (slower, same
behaviour). The zig build itself is the intercept library's (`libintercept/build.py`).

`--sanitize` builds it with clang, ASan and UBSan in place of the plain build, the ASan
runtime inside (as the intercept library's sanitizer build): CI preloads it into the
pytest process that runs the native relay's tests, then rebuilds the plain one.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "tls_relay.c"
LIBRARY_NAME = "liborbit_sim_tls_relay.so"
ZIG_BUILD = HERE.parents[2] / "libintercept" / "build.py"


def library_path(arch: str, out_dir: Path = HERE / "_lib") -> Path:
    return out_dir / arch / LIBRARY_NAME


def build(out_dir: Path = HERE / "_lib", force: bool = False, arch: str | None = None) -> Path:
    """Build (unless up to date) for `arch` (default: this machine); returns its path."""
    zig = runpy.run_path(str(ZIG_BUILD))
    arch = arch or zig["host_arch"]()
    output = library_path(arch, out_dir)
    if not force and output.exists() and output.stat().st_mtime >= SOURCE.stat().st_mtime:
        return output
    command = [*zig["zig_cc"](arch), *zig["COMMON_FLAGS"], *zig["SHARED_FLAGS"], str(SOURCE)]
    return zig["compile_to"](output, [*command, "-ldl"])


def build_sanitized(out_dir: Path = HERE / "_lib") -> Path:
    """This machine's library with ASan and UBSan, in place of the plain build."""
    zig = runpy.run_path(str(ZIG_BUILD))
    output = library_path(zig["host_arch"](), out_dir)
    flags = [*zig["COMMON_FLAGS"], *zig["SANITIZE_FLAGS"], *zig["SHARED_FLAGS"]]
    with tempfile.TemporaryDirectory() as tmp:
        runtime = zig["sanitizer_runtime"](Path(tmp))
        command = ["clang", *flags, str(SOURCE), *runtime, "-ldl", "-lpthread"]
        return zig["compile_to"](output, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "_lib", help="output base directory")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--arch", choices=["x86_64", "aarch64"], help="default: this machine")
    parser.add_argument("--sanitize", action="store_true", help="ASan+UBSan, clang, this machine")
    args = parser.parse_args(argv)
    print(build_sanitized(args.out) if args.sanitize else build(args.out, args.force, args.arch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
