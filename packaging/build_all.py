"""Build every distribution artifact: sdist, wheels, user-space tarballs, Debian packages.

    python packaging/build_all.py --out DIR [--arch x86_64|aarch64|all|host]
                                  [--python-versions 3.11,3.12,3.13,3.14] [--no-isolation]

Per architecture: the wheel (built from the sdist; aarch64 cross-built with zig), the
dependency wheels for the tarball (`pip download` for that platform and each Python
version: needs the package index at build time, never at setup time), the tarball and the
.deb. Each artifact is checked to hold ELF files of its own architecture only. The list of
artifacts is written to DIR/artifacts.json, their checksums to DIR/SHA256SUMS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from artifacts import DEFAULT_PYTHON_VERSIONS, PackagingError, arches_for, size_text
from build_deb import build_deb
from build_tarball import build_tarball
from build_wheels import build_sdist, build_wheel, download_dependencies
from elfcheck import check_arch

MANIFEST = "artifacts.json"
CHECKSUMS = "SHA256SUMS"  # `sha256sum -c SHA256SUMS` in DIR checks a download


@dataclass
class Artifacts:
    """Paths of what one run built: `sdist`, and per architecture name the rest."""

    sdist: str
    wheels: dict[str, str] = field(default_factory=dict)
    tarballs: dict[str, str] = field(default_factory=dict)
    debs: dict[str, str] = field(default_factory=dict)
    python_versions: list[str] = field(default_factory=list)

    def all_paths(self) -> list[Path]:
        paths = [self.sdist, *self.wheels.values(), *self.tarballs.values(), *self.debs.values()]
        return [Path(p) for p in paths]

    @classmethod
    def load(cls, out_dir: Path) -> Artifacts:
        return cls(**json.loads((out_dir / MANIFEST).read_text()))


def build_all(
    out_dir: Path,
    arch_spec: str = "all",
    python_versions: Sequence[str] = DEFAULT_PYTHON_VERSIONS,
    *,
    isolation: bool = True,
    log=print,
) -> Artifacts:
    arches = arches_for(arch_spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    sdist = build_sdist(out_dir, isolation=isolation)
    log(f"built {sdist.name}")
    built = Artifacts(str(sdist), python_versions=list(python_versions))
    for arch in arches:
        wheel = build_wheel(sdist, arch, out_dir, isolation=isolation)
        log(f"built {wheel.name}")
        with tempfile.TemporaryDirectory(prefix="orbit-globus-wheelhouse-") as wheelhouse:
            download_dependencies(wheel, arch, Path(wheelhouse), python_versions)
            tarball = build_tarball(wheel, Path(wheelhouse), arch, out_dir, python_versions)
        log(f"built {tarball.name}")
        deb = build_deb(wheel, arch, out_dir)
        log(f"built {deb.name}")
        for artifact in (wheel, tarball, deb):
            check_arch(artifact, arch)
        built.wheels[arch.name] = str(wheel)
        built.tarballs[arch.name] = str(tarball)
        built.debs[arch.name] = str(deb)
    (out_dir / MANIFEST).write_text(json.dumps(asdict(built), indent=2) + "\n")
    sums = (f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in built.all_paths())
    (out_dir / CHECKSUMS).write_text("".join(sums))
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--arch", default="all", help="x86_64, aarch64, all (default) or host")
    parser.add_argument(
        "--python-versions",
        default=",".join(DEFAULT_PYTHON_VERSIONS),
        help="CPython versions whose dependency wheels the tarballs bundle",
    )
    parser.add_argument(
        "--no-isolation", action="store_true", help="build with this Python's setuptools/ziglang"
    )
    args = parser.parse_args(argv)
    versions = [v.strip() for v in args.python_versions.split(",") if v.strip()]
    try:
        built = build_all(args.out, args.arch, versions, isolation=not args.no_isolation)
    except PackagingError as exc:
        print(f"build_all.py: {exc}", file=sys.stderr)
        return 1
    for path in built.all_paths():
        print(f"{size_text(path):>10}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
