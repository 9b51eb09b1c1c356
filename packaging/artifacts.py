"""Facts every artifact builder shares: names, versions, architectures, running tools.

The folder has no __init__.py on purpose: a package named `packaging` would shadow the
PyPI library of that name for pip and setuptools. Scripts here import each other as
top-level modules (`python packaging/build_all.py` puts this folder on sys.path).
"""

from __future__ import annotations

import platform
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING_DIR = ROOT / "packaging"
LIBRARY_NAME = "libglobus_streams_client.so.0"
LAUNCHER_NAME = "globus-streams-launch.sh"
# Where the library and the launcher sit inside the wheel (orbit_globus/native.py looks there).
WHEEL_LIBRARY = "orbit_globus/_lib/{arch}/" + LIBRARY_NAME
WHEEL_LAUNCHER = "orbit_globus/scripts/" + LAUNCHER_NAME
# The standard-library-only modules the launcher runs to read a conf
# (python -m orbit_globus.streams.conf_query), shipped in python/ beside the launcher of the
# .deb and the tarball: a machine with neither the CLI nor pip can still launch a listener.
LAUNCHER_HELPER = tuple(
    "orbit_globus/" + name
    for name in (
        "__init__.py",
        "streams/__init__.py",
        "streams/conf.py",
        "streams/conf_query.py",
        "streams/contact.py",
        "streams/elf.py",
        "streams/errors.py",
        "streams/launch_plan.py",
        "streams/launcher.py",
        "streams/programs.py",
    )
)
# CPython versions whose dependency wheels a tarball bundles by default.
DEFAULT_PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")


@dataclass(frozen=True)
class Arch:
    name: str  # as uname -m and the wheel tag say it
    deb: str  # Debian's architecture name
    multiarch: str  # Debian's multiarch tuple: /usr/lib/<multiarch>/
    elf_machine: str  # `readelf -h`'s "Machine:" for this architecture

    @property
    def wheel_platforms(self) -> list[str]:
        """pip `--platform` values a glibc 2.17 system accepts (pip does not expand the
        PEP 600 names itself)."""
        return [f"manylinux_2_{minor}_{self.name}" for minor in range(17, 4, -1)] + [
            f"manylinux2014_{self.name}"
        ]


ARCHES: dict[str, Arch] = {
    "x86_64": Arch("x86_64", "amd64", "x86_64-linux-gnu", "Advanced Micro Devices X86-64"),
    "aarch64": Arch("aarch64", "arm64", "aarch64-linux-gnu", "AArch64"),
}
_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


class PackagingError(RuntimeError):
    """A build step failed; the message says which and why."""


def host_arch() -> str:
    machine = platform.machine().lower()
    return _ALIASES.get(machine, machine)


def arches_for(spec: str) -> list[Arch]:
    """`host`, `all`, or one architecture (Debian names accepted too)."""
    if spec == "all":
        return list(ARCHES.values())
    name = host_arch() if spec == "host" else _ALIASES.get(spec, spec)
    if name not in ARCHES:
        raise PackagingError(f"unknown architecture {spec!r}; use host, all, x86_64 or aarch64")
    return [ARCHES[name]]


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["version"]


def run(
    command: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
) -> str:
    """Run a build tool; its output is shown only when it fails."""
    argv = [str(part) for part in command]
    result = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise PackagingError(f"{' '.join(argv[:4])} ... failed ({result.returncode}):\n{tail}")
    return result.stdout


def size_text(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KiB"
