"""Fixtures for CLI tests against one `orbit-sim serve` subprocess (virtual clock).

Every host is a separate HOME; the server is shared by the package's modules, each test
makes its own tunnels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orbit_sim.control import SimControl

from ..server import Host, orbit_sim_serve
from .checks import create_tunnel, make_host


@pytest.fixture(scope="package")
def sim_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with orbit_sim_serve(tmp_path_factory.mktemp("orbit-sim"), "--clock", "virtual") as env:
        yield env


@pytest.fixture
def control(sim_env: dict[str, str]) -> Iterator[SimControl]:
    client = SimControl(sim_env["ORBIT_SIM_URL"])
    try:
        yield client
    finally:
        client.clear_faults()
        client.close()


@pytest.fixture
def listener(tmp_path: Path, sim_env: dict[str, str]) -> Host:
    return make_host(tmp_path, "listener-home", sim_env)


@pytest.fixture
def initiator(tmp_path: Path, sim_env: dict[str, str]) -> Host:
    return make_host(tmp_path, "initiator-home", sim_env)


@pytest.fixture
def tunnel(listener: Host) -> str:
    return create_tunnel(listener, "--lifetime-mins", "20")
