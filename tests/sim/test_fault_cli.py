"""`orbit-sim fault add|list|remove` against a served simulator, and `orbit-sim --version`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version

import pytest

from orbit_sim import Simulator, serve
from orbit_sim.cli import main
from orbit_sim.server import ServerHandle


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerHandle]:
    sim = Simulator("virtual")
    handle = serve(sim)
    monkeypatch.setenv("ORBIT_SIM_URL", handle.env["ORBIT_SIM_URL"])
    try:
        yield handle
    finally:
        handle.stop()
        sim.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_add_list_remove(served: ServerHandle, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "fault", "add", "latency:leg=2,ms=40,jitter_ms=10", "http:route=get_task"
    )
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == [
        "latency:ms=40.0,jitter_ms=10.0",
        "http:route=get_task",
    ]
    assert {f.kind for f in served.sim.list_faults()} == {"latency", "http"}
    assert run(capsys, "fault", "list")[1] == out  # same ids, same specs

    first_id = lines[0].split()[0]
    assert run(capsys, "fault", "remove", first_id)[0] == 0
    assert [f.kind for f in served.sim.list_faults()] == ["http"]
    assert run(capsys, "fault", "remove", "--all")[0] == 0
    assert served.sim.list_faults() == [] and run(capsys, "fault", "list")[1] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fault", "add", "http:route=no_such_route"], "unknown route name 'no_such_route'"),
        (["fault", "add", "latency:colour=red"], "unknown setting 'colour' for fault 'latency'"),
        (["fault", "add", "nope:"], "unknown fault kind 'nope' (known: http, drop, latency"),
        (["fault", "remove", "0123456789ab"], "404 No such fault"),
        (["fault", "add", "drop:id=x", "drop:id=x"], "a fault with id 'x' exists already"),
        (["fault", "remove"], "give fault ids, or --all"),
    ],
)
def test_refusals_are_one_line(
    served: ServerHandle, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, _, err = run(capsys, *argv)
    assert status != 0
    assert message in err and "Traceback" not in err
    assert [f.id for f in served.sim.list_faults()] in ([], ["x"])


def test_without_a_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ORBIT_SIM_URL", raising=False)
    status, _, err = run(capsys, "fault", "list")
    assert status == 2 and "set ORBIT_SIM_URL" in err
    status, _, err = run(capsys, "fault", "list", "--url", "http://127.0.0.1:9/control")
    assert status == 1 and err.strip() == (
        "Error: cannot reach http://127.0.0.1:9/control: ConnectionError"
    )


def test_version() -> None:
    orbit_sim = [sys.executable, "-m", "orbit_sim.cli", "--version"]
    reply = subprocess.run(orbit_sim, capture_output=True, text=True, check=True)
    assert reply.stdout.strip() == f"orbit-sim, version {version('orbit-globus')}"
