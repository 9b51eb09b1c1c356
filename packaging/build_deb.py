"""The Debian package `globus-streams-libs_<version>_<debian arch>.deb`, built with dpkg-deb.

    /usr/lib/<multiarch>/libglobus_streams_client.so.0            the library
    /usr/lib/<multiarch>/globus-streams/scripts/globus-streams-launch.sh   the package's launcher
    /usr/lib/<multiarch>/globus-streams/_lib/<arch>/libglobus_streams_client.so.0
        -> ../../../libglobus_streams_client.so.0    (the launcher looks in ../_lib/<arch>/)
    /usr/lib/<multiarch>/globus-streams/python/orbit_globus/...   the conf reader it runs
    /usr/share/globus/streams/globus-streams-launch.sh            wrapper at the guide's path
    /usr/share/doc/globus-streams-libs/copyright

The launcher is installed unchanged, in the same layout it has inside the Python package,
so it resolves the library to the multiarch path by itself, and reads confs with the
package's own modules in python/ (python3 is the one dependency that adds). The CLI comes
from pip; the listener side never needs it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from artifacts import (
    LAUNCHER_HELPER,
    LAUNCHER_NAME,
    LIBRARY_NAME,
    PACKAGING_DIR,
    WHEEL_LAUNCHER,
    WHEEL_LIBRARY,
    Arch,
    project_version,
    run,
)

PACKAGE = "globus-streams-libs"
TEMPLATES = PACKAGING_DIR / "debian"
GUIDE_LAUNCHER = f"usr/share/globus/streams/{LAUNCHER_NAME}"
# Debian's own convention for naming the maintainer of a locally built package.
DEFAULT_MAINTAINER = "orbit-globus maintainers <maintainers@users.noreply.r-seed-676b0ba0.example>"


def deb_name(arch: Arch) -> str:
    return f"{PACKAGE}_{project_version()}_{arch.deb}.deb"


def maintainer() -> str:
    name, email = os.environ.get("DEBFULLNAME"), os.environ.get("DEBEMAIL")
    return f"{name} <{email}>" if name and email else DEFAULT_MAINTAINER


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    path.write_bytes(data)
    path.chmod(mode)


def _fill(template: str, values: dict[str, str]) -> bytes:
    text = (TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text.encode()


def _stage_files(stage: Path, wheel: Path, arch: Arch) -> None:
    with zipfile.ZipFile(wheel) as archive:
        library = archive.read(WHEEL_LIBRARY.format(arch=arch.name))
        launcher = archive.read(WHEEL_LAUNCHER)
        helper = {name: archive.read(name) for name in LAUNCHER_HELPER}
    lib_dir = stage / "usr" / "lib" / arch.multiarch
    _write(lib_dir / LIBRARY_NAME, library, 0o644)
    _write(lib_dir / "globus-streams" / "scripts" / LAUNCHER_NAME, launcher, 0o755)
    for name, data in helper.items():
        _write(lib_dir / "globus-streams" / "python" / name, data, 0o644)
    link = lib_dir / "globus-streams" / "_lib" / arch.name / LIBRARY_NAME
    link.parent.mkdir(parents=True, mode=0o755)
    link.symlink_to(f"../../../{LIBRARY_NAME}")
    wrapper = _fill("launcher-wrapper.sh.in", {"MULTIARCH": arch.multiarch})
    _write(stage / GUIDE_LAUNCHER, wrapper, 0o755)
    doc = stage / "usr" / "share" / "doc" / PACKAGE / "copyright"
    _write(doc, (TEMPLATES / "copyright").read_bytes(), 0o644)


def _stage_control(stage: Path, arch: Arch) -> None:
    files = sorted(p for p in stage.rglob("*") if p.is_file() and not p.is_symlink())
    installed_kib = sum((p.stat().st_size + 1023) // 1024 for p in files)
    control = _fill(
        "control.in",
        {
            "VERSION": project_version(),
            "DEB_ARCH": arch.deb,
            "MAINTAINER": maintainer(),
            "INSTALLED_SIZE": str(installed_kib),
        },
    )
    md5sums = "".join(
        f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(stage)}\n" for p in files
    )
    debian = stage / "DEBIAN"
    _write(debian / "control", control, 0o644)
    _write(debian / "md5sums", md5sums.encode(), 0o644)
    # A shared library in a directory ld.so searches: let dpkg run ldconfig afterwards.
    _write(debian / "triggers", b"activate-noawait ldconfig\n", 0o644)


def build_deb(wheel: Path, arch: Arch, out_dir: Path) -> Path:
    """Write the .deb for `arch` from the files of its wheel."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / deb_name(arch)
    with tempfile.TemporaryDirectory(prefix="orbit-globus-deb-") as scratch:
        stage = Path(scratch) / PACKAGE
        stage.mkdir(mode=0o755)
        _stage_files(stage, wheel, arch)
        _stage_control(stage, arch)
        for directory in [stage, *(p for p in stage.rglob("*") if p.is_dir())]:
            directory.chmod(0o755)  # whatever the umask: dpkg-deb and users need 0755
        run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, target])
    return target
