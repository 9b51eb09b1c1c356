"""The Debian package: control fields and paths from dpkg-deb; as root, installed with
dpkg, the launcher at the guide's path runs nc through a tunnel with the pip-installed
CLI, and removal leaves none of its files behind."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from artifacts import ARCHES, LAUNCHER_HELPER, LAUNCHER_NAME, LIBRARY_NAME, Arch
from build_all import Artifacts
from build_deb import GUIDE_LAUNCHER, PACKAGE
from elfcheck import unpack
from smoke import bare_env, run_nc_example

from .launcher_checks import help_and_version, run_listener_side

INSTALL_LOCK = Path("/tmp/orbit-globus-deb-install.lock")


def _deb(artifacts: Artifacts, arch: Arch) -> str:
    return artifacts.debs[arch.name]


def _field(deb: str, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True
    ).stdout.strip()


def _contents(deb: str) -> dict[str, str]:
    """{installed path: target of a symlink, else ''} from `dpkg-deb -c`, directories left out."""
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True)
    entries = {}
    for line in listing.stdout.splitlines():
        mode, _owner, _size, _date, _time, name = line.split(maxsplit=5)
        if mode.startswith("d"):
            continue
        path, _, target = name.partition(" -> ")
        entries[path.removeprefix(".")] = target
    return entries


def test_control_fields(artifacts: Artifacts, arch: Arch) -> None:
    deb = _deb(artifacts, arch)
    assert Path(deb).name == f"{PACKAGE}_{_field(deb, 'Version')}_{arch.deb}.deb"
    assert _field(deb, "Package") == PACKAGE
    assert _field(deb, "Architecture") == arch.deb
    assert _field(deb, "Depends") == "libc6 (>= 2.17), python3 (>= 3.11)"
    assert "<" in _field(deb, "Maintainer") and _field(deb, "Maintainer").endswith(">")
    assert _field(deb, "Description").startswith("Globus Streams intercept library")


def test_paths_library_in_the_multiarch_directory_launcher_at_the_guides_path(
    artifacts: Artifacts, arch: Arch
) -> None:
    lib_dir = f"/usr/lib/{arch.multiarch}"
    assert _contents(_deb(artifacts, arch)) == {
        f"{lib_dir}/{LIBRARY_NAME}": "",
        f"{lib_dir}/globus-streams/scripts/{LAUNCHER_NAME}": "",
        f"{lib_dir}/globus-streams/_lib/{arch.name}/{LIBRARY_NAME}": f"../../../{LIBRARY_NAME}",
        f"/{GUIDE_LAUNCHER}": "",
        f"/usr/share/doc/{PACKAGE}/copyright": "",
        **{f"{lib_dir}/globus-streams/python/{name}": "" for name in LAUNCHER_HELPER},
    }


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="runs the x86_64 package")
def test_unpacked_launcher_runs_the_listener_side_without_the_cli(
    artifacts: Artifacts, tmp_path: Path
) -> None:
    root = unpack(Path(artifacts.debs["x86_64"]), tmp_path / "deb")
    lib_dir = root / "usr" / "lib" / ARCHES["x86_64"].multiarch
    launcher = lib_dir / "globus-streams" / "scripts" / LAUNCHER_NAME
    preload, cli, port_var, maps = run_listener_side(launcher, tmp_path / "home")
    library = str((lib_dir / LIBRARY_NAME).resolve())
    assert (preload, cli) == (library, "unset") and port_var.startswith("0e8a675b-")
    assert library in maps  # the dynamic linker really loaded it
    shown, _ = help_and_version(launcher)
    assert shown.startswith("usage: globus-streams-launch.sh")


def _installed(package: str) -> bool:
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return status.returncode == 0 and status.stdout.endswith(" installed")


@pytest.fixture
def installed_deb(artifacts: Artifacts) -> Iterator[str]:
    """The host's .deb installed with dpkg for the test, purged afterwards whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root")
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time on this machine
        if _installed(PACKAGE):
            pytest.skip(f"{PACKAGE} is already installed here; leaving it alone")
        deb = artifacts.debs["x86_64"]
        subprocess.run(["dpkg", "-i", deb], capture_output=True, check=True, timeout=300)
        try:
            yield deb
        finally:
            subprocess.run(["dpkg", "--purge", PACKAGE], capture_output=True, timeout=300)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="installs the x86_64 package")
def test_installed_launcher_runs_nc_with_the_pip_cli_and_removal_leaves_nothing(
    installed_deb: str, wheel_venv: Path, sim_env: dict[str, str], tmp_path: Path
) -> None:
    launcher = f"/{GUIDE_LAUNCHER}"
    example = run_nc_example(sim_env, tmp_path, bare_env(wheel_venv), launcher=launcher)
    multiarch = ARCHES["x86_64"].multiarch
    assert example.preloaded_library(launcher) == f"/usr/lib/{multiarch}/{LIBRARY_NAME}"

    files = _contents(installed_deb)
    assert all(os.path.lexists(path) for path in files)
    subprocess.run(["dpkg", "-r", PACKAGE], capture_output=True, check=True, timeout=300)
    assert [path for path in files if os.path.lexists(path)] == []
    assert not os.path.lexists("/usr/share/globus/streams")
