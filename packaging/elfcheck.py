"""Which machine each ELF file in an artifact is built for, read with `readelf -h`.

Artifacts are unpacked into a directory first (wheel: zip, tarball: tar, .deb:
`dpkg-deb -x`); wheels found inside (a tarball's bundled dependencies) are unpacked too,
so a stray x86_64 extension module in an aarch64 tarball is caught as well.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

from artifacts import Arch, PackagingError, run

ELF_MAGIC = b"\x7fELF"


def _is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(4) == ELF_MAGIC


def readelf_machine(path: Path) -> str:
    for line in run(["readelf", "-h", path]).splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Machine":
            return value.strip()
    raise PackagingError(f"readelf -h {path}: no Machine line")


def elf_machines_under(directory: Path) -> dict[str, str]:
    """{path relative to `directory` (`x.whl!inner/path` inside wheels): machine}."""
    found: dict[str, str] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if path.suffix == ".whl" and path.is_file():
            with tempfile.TemporaryDirectory() as inner:
                with zipfile.ZipFile(path) as wheel:
                    wheel.extractall(inner)
                for name, machine in elf_machines_under(Path(inner)).items():
                    found[f"{relative}!{name}"] = machine
        elif _is_elf(path):
            found[relative] = readelf_machine(path)
    return found


def unpack(artifact: Path, into: Path) -> Path:
    """Unpack a .whl, .tar.gz or .deb into `into` (created) and return it."""
    into.mkdir(parents=True, exist_ok=True)
    if artifact.name.endswith(".whl"):
        with zipfile.ZipFile(artifact) as wheel:
            wheel.extractall(into)
    elif artifact.name.endswith(".tar.gz"):
        with tarfile.open(artifact) as tar:
            tar.extractall(into, filter="tar")
    elif artifact.name.endswith(".deb"):
        subprocess.run(["dpkg-deb", "-x", str(artifact), str(into)], check=True)
    else:
        raise PackagingError(f"{artifact.name}: not a wheel, tarball or .deb")
    return into


def foreign_elf(artifact: Path, arch: Arch) -> tuple[dict[str, str], dict[str, str]]:
    """(all ELF files in `artifact` with their machine, those not built for `arch`)."""
    with tempfile.TemporaryDirectory() as scratch:
        machines = elf_machines_under(unpack(artifact, Path(scratch) / "unpacked"))
    return machines, {p: m for p, m in machines.items() if m != arch.elf_machine}


def check_arch(artifact: Path, arch: Arch) -> None:
    """Refuse an artifact that holds no ELF file or any ELF file of another machine."""
    machines, foreign = foreign_elf(artifact, arch)
    if not machines:
        raise PackagingError(f"{artifact.name}: holds no ELF file (no intercept library?)")
    if foreign:
        listed = ", ".join(f"{p} ({m})" for p, m in sorted(foreign.items()))
        raise PackagingError(f"{artifact.name} is for {arch.name} but holds: {listed}")
