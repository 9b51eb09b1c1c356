"""Artifacts built once per test run, shared by pytest-xdist workers through a file lock.

Building is the slow part (sdist, two wheels, two tarballs with their dependency wheels,
two .debs): the first worker builds into the run's shared temporary directory, the others
wait for it and reuse the result.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PACKAGING_DIR = Path(__file__).resolve().parents[2] / "packaging"
if str(PACKAGING_DIR) not in sys.path:
    sys.path.append(str(PACKAGING_DIR))  # appended: never shadows installed modules

from artifacts import ARCHES, Arch  # noqa: E402
from build_all import Artifacts, build_all  # noqa: E402
from elfcheck import unpack  # noqa: E402

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def shared_once(
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
    name: str,
    make: Callable[[Path], None],
) -> Path:
    """`make(directory)` run once per test run, whatever the number of xdist workers."""
    if worker_id == "master":  # no xdist: this process is the only one
        directory = tmp_path_factory.mktemp(name)
        make(directory)
        return directory
    shared = tmp_path_factory.getbasetemp().parent  # one per run, common to the workers
    directory, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            directory.mkdir(exist_ok=True)
            make(directory)
            done.write_text("ok\n")
    return directory


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Artifacts:
    def make(out: Path) -> None:
        build_all(out, "all", [PYTHON_VERSION], log=lambda _line: None)

    return Artifacts.load(shared_once(tmp_path_factory, worker_id, "artifacts", make))


@pytest.fixture(scope="session")
def wheelhouse(
    artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """The x86_64 dependency wheels, taken from the tarball (pip download made them)."""

    def make(out: Path) -> None:
        unpack(Path(artifacts.tarballs["x86_64"]), out)

    return shared_once(tmp_path_factory, worker_id, "wheelhouse", make) / (
        "globus-streaming-tools/wheels"
    )


@pytest.fixture(scope="session")
def wheel_venv(
    artifacts: Artifacts,
    wheelhouse: Path,
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
) -> Path:
    """A fresh virtualenv with the x86_64 wheel installed without an index; its bin/."""

    def make(out: Path) -> None:
        venv.create(out / "venv", with_pip=False, clear=True)
        pip_wheel = next(wheelhouse.glob("pip-*.whl"))
        install = [str(out / "venv" / "bin" / "python"), f"{pip_wheel}/pip", "install", "-q"]
        install += ["--no-index", "--find-links", str(wheelhouse), artifacts.wheels["x86_64"]]
        subprocess.run(install, check=True, capture_output=True, timeout=600)

    return shared_once(tmp_path_factory, worker_id, "wheel-venv", make) / "venv" / "bin"


@pytest.fixture(scope="module")
def sim_env() -> Iterator[dict[str, str]]:
    """A loopback simulator with real stream access points; its environment variables."""
    from orbit_sim.testing import running_simulator

    with running_simulator() as server:
        yield dict(server.env)


@pytest.fixture(params=sorted(ARCHES))
def arch(request: pytest.FixtureRequest) -> Arch:
    return ARCHES[request.param]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The first test of a run waits for every artifact to be built: allow it the time."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.timeout(900))
