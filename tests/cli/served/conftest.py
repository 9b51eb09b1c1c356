"""Fixtures for CLI tests against one `orbit-sim serve` subprocess (virtual clock).

Every host is a separate HOME; the server is shared by the package's modules, each test
makes its own tunnels.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..server import Host, control_client, virtual_clock_server
from .checks import create_tunnel, make_host

sim_env = pytest.fixture(scope="package", name="sim_env")(virtual_clock_server)
control = pytest.fixture(name="control")(control_client)


@pytest.fixture
def listener(tmp_path: Path, sim_env: dict[str, str]) -> Host:
    return make_host(tmp_path, "listener-home", sim_env)


@pytest.fixture
def initiator(tmp_path: Path, sim_env: dict[str, str]) -> Host:
    return make_host(tmp_path, "initiator-home", sim_env)


@pytest.fixture
def tunnel(listener: Host) -> str:
    return create_tunnel(listener, "--lifetime-mins", "20")
