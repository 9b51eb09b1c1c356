"""The sdist and the platform wheels (issue 8): tags, contents, and a fresh install."""

from __future__ import annotations

import re
import subprocess
import tarfile
import zipfile
from pathlib import Path

from artifacts import LIBRARY_NAME, Arch
from build_all import Artifacts
from smoke import bare_env, run_nc_example


def test_sdist_builds_from_source_and_carries_no_built_library(artifacts: Artifacts) -> None:
    with tarfile.open(artifacts.sdist) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    assert {"setup.py", "pyproject.toml", "libintercept/build.py"} <= set(names)
    assert "libintercept/src/hooks/connect.c" in names
    assert [name for name in names if ".so" in name] == []


def test_wheel_is_tagged_for_its_architecture_and_carries_only_its_library(
    artifacts: Artifacts, arch: Arch
) -> None:
    wheel = Path(artifacts.wheels[arch.name])
    assert wheel.name.endswith(
        f"-py3-none-manylinux_2_17_{arch.name}.manylinux2014_{arch.name}.whl"
    )
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/WHEEL")))
    libraries = sorted(name for name in names if ".so" in name)
    assert libraries == [
        f"orbit_globus/_lib/{arch.name}/{LIBRARY_NAME}",
        f"orbit_sim/streams/native/_lib/{arch.name}/liborbit_sim_tls_relay.so",
    ]
    lines = metadata.decode().splitlines()
    assert "Root-Is-Purelib: false" in lines
    assert {line for line in lines if line.startswith("Tag:")} == {
        f"Tag: py3-none-manylinux_2_17_{arch.name}",
        f"Tag: py3-none-manylinux2014_{arch.name}",
    }


def test_fresh_venv_with_the_wheel_runs_the_guides_nc_example(
    wheel_venv: Path, sim_env: dict[str, str], tmp_path: Path
) -> None:
    example = run_nc_example(sim_env, tmp_path, bare_env(wheel_venv))
    preloaded = Path(example.preloaded_library())
    assert preloaded.name == LIBRARY_NAME
    # the library of the installed wheel, not the development tree's
    assert preloaded.is_relative_to(wheel_venv.parent), preloaded


def test_sha256sums_cover_every_artifact(artifacts: Artifacts) -> None:
    out_dir = Path(artifacts.sdist).parent
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out_dir, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    listed = {line.rsplit(": ", 1)[0] for line in check.stdout.splitlines()}
    assert listed == {path.name for path in artifacts.all_paths()}


def wheel_metadata(wheel: Path) -> tuple[list[str], list[str]]:
    """(the wheel's file names, the lines of its METADATA)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    return names, metadata.decode().splitlines()


def field_values(metadata: list[str], field: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in metadata if line.startswith(f"{field}: ")]


def test_wheel_carries_typing_marker_license_and_release_metadata(artifacts: Artifacts) -> None:
    names, metadata = wheel_metadata(Path(artifacts.wheels["x86_64"]))
    assert {"orbit_globus/py.typed", "orbit_sim/py.typed"} <= set(names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names), names
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata
    assert any(line.startswith("Project-URL: Changelog, ") for line in metadata)


def test_wheel_installs_only_what_the_cli_needs_without_extras(artifacts: Artifacts) -> None:
    _, metadata = wheel_metadata(Path(artifacts.wheels["x86_64"]))
    requirements = field_values(metadata, "Requires-Dist")
    unconditional = {r for r in requirements if "extra ==" not in r}
    # a CLI-only install: no simulator, ASGI stack or test tools
    names = {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0] for r in unconditional}
    assert names <= {"globus-sdk", "click", "rich", "jmespath"}, unconditional
    assert {"globus-sdk", "click", "rich"} <= names
    assert "globus-sdk<5,>=4.5" in unconditional
    assert {"sim", "orbit", "test"} <= set(field_values(metadata, "Provides-Extra"))
    assert any(r.startswith("trustme") and 'extra == "sim"' in r for r in requirements)
