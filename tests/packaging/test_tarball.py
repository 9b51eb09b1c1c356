"""The user-space tarball: extracted to a new folder, `setup.sh` with no package index,
`globus-streams-env` sourced, the tools work from that folder alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from artifacts import LIBRARY_NAME
from build_all import Artifacts
from elfcheck import unpack
from smoke import bare_env, run_nc_example, sourced_env

from .launcher_checks import help_and_version, run_listener_side


def _setup(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(home / "setup.sh")],
        env={**bare_env(), "PIP_NO_INDEX": "1", **env},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def home(artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The x86_64 tarball extracted to a new directory and set up."""
    folder = unpack(Path(artifacts.tarballs["x86_64"]), tmp_path_factory.mktemp("tarball"))
    home = folder / "globus-streaming-tools"
    result = _setup(home, PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture(scope="module")
def tools_env(home: Path) -> dict[str, str]:
    return sourced_env(home / "globus-streams-env", bare_env())


def test_sourced_env_puts_the_folders_tools_first(home: Path, tools_env: dict[str, str]) -> None:
    assert tools_env["PATH"].split(":")[:2] == [str(home / "bin"), str(home / "venv" / "bin")]
    assert tools_env["LD_LIBRARY_PATH"].split(":")[0] == str(home / "lib")
    assert tools_env["VIRTUAL_ENV"] == str(home / "venv")


def test_sourcing_twice_adds_nothing_twice(home: Path, tools_env: dict[str, str]) -> None:
    env_file = str(home / "globus-streams-env")
    twice = subprocess.run(
        ["sh", "-c", '. "$1"; . "$1"; printf "%s\\n%s" "$PATH" "$LD_LIBRARY_PATH"', "sh", env_file],
        env=bare_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert twice == [tools_env["PATH"], tools_env["LD_LIBRARY_PATH"]]


def test_the_guides_nc_example_runs_from_the_folder_alone(
    home: Path, tools_env: dict[str, str], sim_env: dict[str, str], tmp_path: Path
) -> None:
    example = run_nc_example(sim_env, tmp_path, tools_env)
    assert example.preloaded_library() == str(home / "lib" / LIBRARY_NAME)


def test_library_loads_by_bare_name_through_ld_library_path(
    home: Path, tools_env: dict[str, str]
) -> None:
    maps = subprocess.run(
        ["cat", "/proc/self/maps"],
        env={**tools_env, "LD_PRELOAD": LIBRARY_NAME},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(home / "lib" / LIBRARY_NAME) in maps


def test_listener_side_runs_before_setup_without_the_cli(
    artifacts: Artifacts, tmp_path: Path
) -> None:
    """Straight from the unpacked folder: no setup.sh, no venv, no globus-streams."""
    home = unpack(Path(artifacts.tarballs["x86_64"]), tmp_path / "new") / "globus-streaming-tools"
    launcher = home / "bin" / "globus-streams-launch.sh"
    preload, cli, port_var, maps = run_listener_side(launcher, tmp_path / "home")
    library = str((home / "lib" / LIBRARY_NAME).resolve())
    assert (preload, cli) == (library, "unset") and port_var.startswith("0e8a675b-")
    assert library in maps
    help_and_version(launcher)


def test_setup_refuses_a_python_without_bundled_wheels(home: Path, tmp_path: Path) -> None:
    old_python = tmp_path / "python3"
    old_python.write_text("#!/bin/sh\necho 3.9\n")
    old_python.chmod(0o755)
    result = _setup(home, PYTHON=str(old_python))
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "Python 3.9" in message[0], result.stderr
    assert (home / "venv" / "bin" / "globus-streams").exists()  # the refusal changed nothing


def test_setup_finds_a_fitting_python_when_python3_does_not_fit(
    artifacts: Artifacts, tmp_path: Path
) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text("#!/bin/sh\necho 3.9\n")
    (fake_bin / "python3").chmod(0o755)
    (fake_bin / f"python{artifacts.python_versions[0]}").symlink_to(sys.executable)
    home = unpack(Path(artifacts.tarballs["x86_64"]), tmp_path / "new") / "globus-streaming-tools"
    result = _setup(home, PATH=f"{fake_bin}:{bare_env()['PATH']}")
    assert result.returncode == 0, result.stderr
    assert f"(Python {artifacts.python_versions[0]})" in result.stdout
    assert (home / "bin" / "globus-streams").exists()
