"""In-process CLI runs against the simulator (globus-sdk answered through `responses`)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import orbit_sim
from orbit_globus.cli.main import cli
from orbit_globus.streams.conf import TunnelConf

# Variables that would point the CLI elsewhere than at this test's simulator and dirs.
ISOLATED_PREFIXES = ("GLOBUS_SDK_", "GLOBUS_STREAMS_", "ORBIT_SIM_")


@dataclasses.dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


@dataclasses.dataclass
class Side:
    """One machine's view: its own conf directory."""

    name: str
    conf_dir: Path

    def conf(self, tunnel_id: str) -> TunnelConf:
        return TunnelConf.load(tunnel_id, self.conf_dir)


class Cli:
    """Runs `globus-streams` in-process with click's runner."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, side: Side | None = None) -> Run:
        argv = ["--base-dir", str(side.conf_dir), *args] if side else list(args)
        result = self.runner.invoke(cli, argv)
        exception = result.exception
        if isinstance(exception, SystemExit):
            exception = None
        return Run(result.exit_code, result.stdout, result.stderr, exception)

    def ok(self, *args: str, side: Side | None = None) -> Run:
        run = self(*args, side=side)
        assert run.exception is None, run.exception
        assert run.exit_code == 0, run.stderr
        return run


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def sim(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[orbit_sim.Simulator]:
    with orbit_sim.mock_globus() as simulator:
        monkeypatch.setenv("GLOBUS_STREAMS_CLIENT_ID", simulator.world.client_id)
        monkeypatch.setenv("GLOBUS_STREAMS_CLIENT_SECRET", simulator.world.client_secret)
        yield simulator


@pytest.fixture
def run() -> Cli:
    return Cli()


@pytest.fixture
def listener(tmp_path: Path) -> Side:
    return Side("listener", tmp_path / "listener" / "streams")


@pytest.fixture
def initiator(tmp_path: Path) -> Side:
    return Side("initiator", tmp_path / "initiator" / "streams")


def create_tunnel(run: Cli, sim: orbit_sim.Simulator, *extra: str) -> str:
    world = sim.world
    result = run.ok("tunnel", "create", world.initiator_ap_id, world.listener_ap_id, *extra)
    return result.stdout.strip()


@pytest.fixture
def tunnel(run: Cli, sim: orbit_sim.Simulator) -> str:
    return create_tunnel(run, sim, "--lifetime-mins", "30", "--restartable")


def endpoint_of(sim: orbit_sim.Simulator, access_point_id: str) -> str:
    return sim.transfer.get_access_point(access_point_id).host_endpoint_id
