"""Shared by the launcher tests: a copy of the package layout, confs, running the script."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orbit_globus.streams import launcher as launch_mod
from orbit_globus.streams.conf import TunnelConf

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "packaging") not in sys.path:
    sys.path.append(str(ROOT / "packaging"))  # appended: never shadows installed modules
from artifacts import LAUNCHER_HELPER  # noqa: E402  (the files the .deb ships beside it)

SCRIPT = ROOT / "orbit_globus" / "scripts" / "globus-streams-launch.sh"
TUNNEL = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb"
OTHER = "11111111-2222-4333-8444-555555555555"
LIB = "libglobus_streams_client.so.0"
VARS_PREFIXES = ("GLOBUS_STREAMS_", "LD_PRELOAD")


def arch() -> str:
    machine = platform.machine()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the package layout: scripts/ beside _lib/<arch>/ (library: a placeholder)
    and only the modules the .deb and the tarball ship for the launcher's conf reader, so
    these tests also show that list is enough."""
    pkg = tmp_path / "pkg" / "orbit_globus"
    (pkg / "scripts").mkdir(parents=True)
    shutil.copy2(SCRIPT, pkg / "scripts" / SCRIPT.name)
    for name in LAUNCHER_HELPER:
        target = pkg.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    lib_dir = pkg / "_lib" / arch()
    lib_dir.mkdir(parents=True)
    # An empty file: ld.so warns that it cannot preload it and runs `env` anyway.
    (lib_dir / LIB).write_bytes(b"")
    return pkg


@pytest.fixture
def conf_dir(tmp_path: Path) -> Path:
    return tmp_path / "streams"


def write_conf(conf_dir: Path, tunnel: str = TUNNEL, **values: str) -> TunnelConf:
    conf = TunnelConf.new(tunnel, conf_dir)
    conf.set(**values)
    conf.save()
    return conf


def base_env(conf_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(VARS_PREFIXES) and not k.startswith("GLOBUS_STREAMS")
    }
    env.update(GLOBUS_STREAMS_DIR=str(conf_dir), GLOBUS_STREAMS_CLI="/opt/bin/globus-streams")
    env.update(extra)
    return env


def run_launcher(
    package: Path, args: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    script = package / "scripts" / SCRIPT.name
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=30)


def streams_vars(stdout: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in stdout.splitlines())
    return {k: v for k, _, v in pairs if k.startswith(VARS_PREFIXES)}


def library_of(package: Path) -> str:
    return str((package / "_lib" / arch() / LIB).resolve())


@pytest.fixture
def fake_library(package, monkeypatch) -> str:
    library = library_of(package)
    monkeypatch.setattr(launch_mod, "library_path", lambda: Path(library))
    return library
