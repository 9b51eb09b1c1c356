"""Build the sdist and the platform wheels (x86_64, aarch64 cross-built with zig), and
download the dependency wheels a tarball bundles.

    python packaging/build_wheels.py --out DIR [--arch x86_64|aarch64|all|host]
                                     [--library-out LIBDIR] [--no-isolation]

Each wheel is built from the sdist, as `python -m build` does, so a wheel proves the sdist
builds from source. `--library-out LIBDIR` also copies each wheel's library to
`LIBDIR/<arch>/libglobus_streams_client.so.0`; the CI leg that runs the aarch64 library
under qemu can so test the very file the wheel ships:

    python packaging/build_wheels.py --arch aarch64 --out DIR --library-out orbit_globus/_lib
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from artifacts import (
    LIBRARY_NAME,
    ROOT,
    WHEEL_LIBRARY,
    Arch,
    PackagingError,
    arches_for,
    project_version,
    run,
)

TARGET_ARCH_VAR = "ORBIT_GLOBUS_TARGET_ARCH"  # read by setup.py


def _build(source: Path, out_dir: Path, kind: str, isolation: bool, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "build", f"--{kind}", "--outdir", out_dir, source]
    if not isolation:
        command.insert(3, "--no-isolation")
    run(command, env=env)


def build_sdist(out_dir: Path, *, isolation: bool = True) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    _build(ROOT, out_dir, "sdist", isolation, dict(os.environ))
    sdist = out_dir / f"orbit_globus-{project_version()}.tar.gz"
    if not sdist.is_file():
        raise PackagingError(f"python -m build --sdist did not produce {sdist.name}")
    return sdist


def wheel_name(arch: Arch) -> str:
    platform = f"manylinux_2_17_{arch.name}.manylinux2014_{arch.name}"
    return f"orbit_globus-{project_version()}-py3-none-{platform}.whl"


def build_wheel(sdist: Path, arch: Arch, out_dir: Path, *, isolation: bool = True) -> Path:
    """The wheel for `arch`, built from a fresh unpacking of `sdist`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="orbit-globus-sdist-") as scratch:
        with tarfile.open(sdist) as tar:
            tar.extractall(scratch, filter="data")
        source = Path(scratch) / sdist.name.removesuffix(".tar.gz")
        env = dict(os.environ, **{TARGET_ARCH_VAR: arch.name})
        _build(source, out_dir, "wheel", isolation, env)
    wheel = out_dir / wheel_name(arch)
    if not wheel.is_file():
        raise PackagingError(f"python -m build --wheel did not produce {wheel.name}")
    return wheel


def extract_library(wheel: Path, arch: Arch, lib_dir: Path) -> Path:
    """Copy the wheel's library to `lib_dir/<arch>/` (renamed into place, like build.py)."""
    target = lib_dir / arch.name / LIBRARY_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{LIBRARY_NAME}.partial")
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open(WHEEL_LIBRARY.format(arch=arch.name)) as src,
        partial.open("wb") as out,
    ):
        shutil.copyfileobj(src, out)
    partial.chmod(0o755)
    partial.replace(target)
    return target


def download_dependencies(
    wheel: Path, arch: Arch, dest: Path, python_versions: Sequence[str]
) -> Path:
    """`wheel` and every wheel it needs, for `arch` and each CPython version, plus pip
    itself (setup.sh installs with the bundled pip, so no ensurepip is needed)."""
    dest.mkdir(parents=True, exist_ok=True)
    platforms = [arg for name in arch.wheel_platforms for arg in ("--platform", name)]
    for version in python_versions:
        abi = "cp" + version.replace(".", "")
        run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--only-binary=:all:", *platforms, "--implementation", "cp",
             "--python-version", version, "--abi", abi, "--abi", "abi3", "--abi", "none",
             "--dest", dest, wheel, "pip"],
        )  # fmt: skip
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--arch", default="all", help="x86_64, aarch64, all or host")
    parser.add_argument("--library-out", type=Path, help="also copy each wheel's library here")
    parser.add_argument(
        "--no-isolation", action="store_true", help="build with this Python's setuptools/ziglang"
    )
    args = parser.parse_args(argv)
    try:
        arches = arches_for(args.arch)
        sdist = build_sdist(args.out, isolation=not args.no_isolation)
        print(sdist)
        for arch in arches:
            wheel = build_wheel(sdist, arch, args.out, isolation=not args.no_isolation)
            print(wheel)
            if args.library_out:
                print(extract_library(wheel, arch, args.library_out))
    except PackagingError as exc:
        print(f"build_wheels.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
