"""The user-space tarball `globus-streaming-tools-<version>-<arch>.tar.gz`.

    globus-streaming-tools/
        setup.sh                      creates ./venv from ./wheels, writes globus-streams-env
        README
        bin/globus-streams-launch.sh  the package's launcher (setup.sh links bin/globus-streams)
        python/orbit_globus/...       the conf reader the launcher runs (standard library only)
        lib/libglobus_streams_client.so.0
        _lib/<arch>/libglobus_streams_client.so.0 -> ../../lib/...  (where the launcher looks)
        share/globus-streams-env.in
        wheels/                       orbit-globus, its dependencies, pip

The folder name matches the Streaming User Guide (`cd globus-streaming-tools`). The
library and launcher are taken from the wheel, so every artifact ships the same bytes.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Sequence
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
)

TOP = "globus-streaming-tools"
TEMPLATES = PACKAGING_DIR / "tarball"


def tarball_name(arch: Arch) -> str:
    return f"{TOP}-{project_version()}-{arch.name}.tar.gz"


def _fill(template: str, arch: Arch, python_versions: Sequence[str]) -> str:
    values = {
        "@VERSION@": project_version(),
        "@ARCH@": arch.name,
        "@PYTHON_VERSIONS@": " ".join(python_versions),
        "@PYTHON_VERSIONS_COMMA@": ", ".join(python_versions),
        "@LIBRARY@": LIBRARY_NAME,
    }
    text = (TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace(key, value)
    return text


class _TarWriter:
    """Entries owned by root with fixed times, so two builds of the same inputs agree."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar

    def _info(self, name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(f"{TOP}/{name}" if name else TOP)
        info.type, info.mode, info.size = kind, mode, size
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
        return info

    def directory(self, name: str) -> None:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, 0o755))

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self.tar.addfile(self._info(name, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))

    def symlink(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)


def build_tarball(
    wheel: Path, wheelhouse: Path, arch: Arch, out_dir: Path, python_versions: Sequence[str]
) -> Path:
    """Write the tarball for `arch` from its wheel and the dependency wheels in `wheelhouse`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        library = archive.read(WHEEL_LIBRARY.format(arch=arch.name))
        launcher = archive.read(WHEEL_LAUNCHER)
        helper = {name: archive.read(name) for name in LAUNCHER_HELPER}
    bundled = sorted({wheel, *wheelhouse.glob("*.whl")}, key=lambda p: p.name)

    target = out_dir / tarball_name(arch)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with tarfile.open(tmp, mode="w:gz") as tar:
            out = _TarWriter(tar)
            out.directory("")
            out.file("setup.sh", _fill("setup.sh.in", arch, python_versions).encode(), 0o755)
            out.file("README", _fill("README.in", arch, python_versions).encode())
            helper_dirs = sorted({f"python/{Path(name).parent}" for name in helper})
            for folder in ("bin", "lib", "_lib", f"_lib/{arch.name}", "share", "wheels"):
                out.directory(folder)
            for folder in ["python", *helper_dirs]:
                out.directory(folder)
            out.file(f"bin/{LAUNCHER_NAME}", launcher, 0o755)
            for name, data in helper.items():
                out.file(f"python/{name}", data)
            out.file(f"lib/{LIBRARY_NAME}", library, 0o755)
            out.symlink(f"_lib/{arch.name}/{LIBRARY_NAME}", f"../../lib/{LIBRARY_NAME}")
            env_template = (TEMPLATES / "globus-streams-env.in").read_bytes()
            out.file("share/globus-streams-env.in", env_template)
            for path in bundled:
                out.file(f"wheels/{path.name}", path.read_bytes())
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
