"""Every artifact for an architecture holds ELF files of that architecture only (readelf),
including the extension modules inside the dependency wheels a tarball bundles; the
aarch64 wheel's library carries a tunnel connection under qemu-aarch64."""

from __future__ import annotations

import runpy
import shutil
import zipfile
from pathlib import Path

import pytest
from artifacts import ARCHES, LIBRARY_NAME, ROOT, Arch, PackagingError
from build_all import Artifacts
from build_wheels import extract_library
from elfcheck import check_arch, foreign_elf
from smoke import bare_env, open_example_tunnel, send_through


@pytest.mark.parametrize("kind", ["wheels", "tarballs", "debs"])
def test_artifact_holds_elf_of_its_own_architecture_only(
    artifacts: Artifacts, arch: Arch, kind: str
) -> None:
    artifact = Path(getattr(artifacts, kind)[arch.name])
    machines, foreign = foreign_elf(artifact, arch)
    libraries = [path for path in machines if path.endswith(LIBRARY_NAME)]
    assert libraries, machines  # the tarball has it twice: lib/ and inside the wheel
    assert {machines[path] for path in libraries} == {arch.elf_machine}
    assert foreign == {}


QEMU = shutil.which("qemu-aarch64")
AARCH64_SYSROOT = Path("/usr/aarch64-linux-gnu")


@pytest.mark.skipif(
    QEMU is None or not (AARCH64_SYSROOT / "lib").is_dir(),
    reason="qemu-aarch64 or the aarch64 glibc sysroot is not installed",
)
def test_aarch64_library_from_the_wheel_carries_a_tunnel_connection_under_qemu(
    artifacts: Artifacts, wheel_venv: Path, sim_env: dict[str, str], tmp_path: Path
) -> None:
    aarch64 = ARCHES["aarch64"]
    library = extract_library(Path(artifacts.wheels["aarch64"]), aarch64, tmp_path / "lib")
    build = runpy.run_path(str(ROOT / "libintercept" / "build.py"))
    client = build["build_program"](
        "aarch64", [ROOT / "libintercept" / "tests" / "tiny_client.c"], tmp_path / "tiny_client"
    )
    example = open_example_tunnel(sim_env, tmp_path, bare_env(wheel_venv))
    # What the launcher would set, minus LD_PRELOAD: qemu itself is an x86_64 program, so
    # the aarch64 library reaches only the guest, through -E.
    env = {
        **example.initiator_env,
        "GLOBUS_STREAMS_TUNNELS": example.tunnel_id,
        "GLOBUS_STREAMS_CLI": str(wheel_venv / "globus-streams"),
    }
    argv = [QEMU, "-L", str(AARCH64_SYSROOT), "-E", f"LD_PRELOAD={library}", str(client)]
    argv += [example.contact_host, str(example.contact_port)]
    send_through(example, b"from an aarch64 program\n" * 512, client=argv, client_env=env)


def test_the_builders_check_refuses_an_artifact_with_a_foreign_library(
    artifacts: Artifacts, tmp_path: Path
) -> None:
    """A wheel named for aarch64 but holding the x86_64 library is caught before release."""
    with zipfile.ZipFile(artifacts.wheels["x86_64"]) as real:
        library = real.read(f"orbit_globus/_lib/x86_64/{LIBRARY_NAME}")
    mislabeled = tmp_path / Path(artifacts.wheels["aarch64"]).name
    with zipfile.ZipFile(mislabeled, "w") as wheel:
        wheel.writestr(f"orbit_globus/_lib/aarch64/{LIBRARY_NAME}", library)
    with pytest.raises(PackagingError, match="Advanced Micro Devices X86-64"):
        check_arch(mislabeled, ARCHES["aarch64"])
    empty = tmp_path / "empty.whl"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(PackagingError, match="no ELF file"):
        check_arch(empty, ARCHES["aarch64"])
