"""pytest fixtures for suites that test against the simulator (SPEC 5.5).

Installed as a pytest11 plugin, so any suite in an environment with orbit-globus has:

- `sim` -- a fresh in-process `Simulator` (virtual clock, default world) with
  `orbit_sim.mock_globus` active: unmodified globus-sdk clients built with default URLs
  talk to it. Control it directly: `sim.advance(60)`, `sim.add_fault("http:...")`.
  One switch reruns the same tests in server mode (like moto's server mode): with
  `pytest --orbit-sim-server` or `ORBIT_SIM_TEST_SERVER=1`, `sim` is served on loopback
  instead and the SDK's service URLs and CA are set in the environment for the test.
- `sim_server` -- a fresh `Simulator` served on loopback (`orbit_sim.serve`); the value is
  the `ServerHandle`: `.env` holds the SPEC 5.3 variables for subprocesses, `.sim` the model,
  `.control()` a `SimControl` client of its control API (`.control_url`).
- `sim_server_env` -- `sim_server` with its `.env` also set in this process's environment
  (monkeypatched), so globus-sdk clients created in the test use the loopback server.

Everything a fixture starts is stopped in its teardown, even when the test fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator
    from orbit_sim.server import ServerHandle


SERVER_MODE_ENV = "ORBIT_SIM_TEST_SERVER"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("orbit-sim").addoption(
        "--orbit-sim-server",
        action="store_true",
        help="serve the `sim` fixture on loopback instead of in-process (server mode)",
    )


def _server_mode(config: pytest.Config) -> bool:
    flag = os.environ.get(SERVER_MODE_ENV, "").lower() in ("1", "true", "yes")
    return flag or bool(config.getoption("--orbit-sim-server", default=False))


@pytest.fixture
def sim(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A Simulator (virtual clock) that globus-sdk reaches through `responses`, or in
    server mode through the loopback server."""
    from orbit_sim import Simulator, mock_globus, serve

    simulator = Simulator("virtual")
    try:
        if _server_mode(request.config):
            handle = serve(simulator)
            try:
                for key, value in handle.env.items():
                    monkeypatch.setenv(key, value)
                yield simulator
            finally:
                handle.stop()
        else:
            with mock_globus(simulator):
                yield simulator
    finally:
        simulator.close()


@pytest.fixture
def sim_server() -> Iterator[ServerHandle]:
    """A Simulator (virtual clock) on a loopback server; the value is its ServerHandle."""
    from orbit_sim import Simulator, serve

    simulator = Simulator("virtual")
    handle = serve(simulator)
    try:
        yield handle
    finally:
        handle.stop()
        simulator.close()


@pytest.fixture
def sim_server_env(sim_server: ServerHandle, monkeypatch: pytest.MonkeyPatch) -> ServerHandle:
    """`sim_server` with its env variables set in os.environ for this test."""
    for key, value in sim_server.env.items():
        monkeypatch.setenv(key, value)
    return sim_server


@pytest.fixture
def streams_server() -> Iterator[ServerHandle]:
    """A Simulator with real stream access points (GSLA LAN legs, TLS WAN leg) on loopback."""
    from orbit_sim.testing import running_simulator

    with running_simulator() as handle:
        yield handle


@pytest.fixture
def streams_tunnel(streams_server: ServerHandle, tmp_path_factory: pytest.TempPathFactory):
    """A tunnel initialized on two isolated sides by the real CLI (`orbit_sim.testing`).

    `streams_tunnel.listen(argv)` starts the listening program under the launcher on the
    listener side (waiting until it listens on `streams_tunnel.listener_port`);
    `streams_tunnel.connect(argv)` starts the initiator, which reaches it through
    `streams_tunnel.contact_host`:`streams_tunnel.contact_port`.
    """
    from orbit_sim.testing import open_tunnel

    return open_tunnel(streams_server, tmp_path_factory.mktemp("tunnel"))
