"""`globus-streams doctor` as a real process against `orbit-sim serve` (real access points).

Each test plants one problem on an otherwise healthy tunnel and checks that doctor names
it in one line and exits non-zero; the healthy tunnel itself gives no finding and exit 0.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orbit_globus.streams.conf import TunnelConf
from tests.streams import binaries

from .server import Host, control_client, virtual_clock_server

sim_env = pytest.fixture(scope="module", name="sim_env")(virtual_clock_server)
control = pytest.fixture(name="control")(control_client)


def open_tunnel(root: Path, sim_env: dict[str, str]) -> tuple[Host, Host, str]:
    """(listener, initiator, tunnel id): a tunnel initialized on two separate HOMEs."""
    listener, initiator = Host(root / "listener", sim_env), Host(root / "initiator", sim_env)
    listener.home.mkdir()
    initiator.home.mkdir()
    created = listener.ok(
        "tunnel", "create", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
        "--lifetime-mins", "60",
    )  # fmt: skip
    tunnel = str(uuid.UUID(created.stdout.strip()))
    # Nothing needs to listen there: doctor's probe stops before the listener is contacted.
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    initiator.ok("environment", "initialize", tunnel)
    return listener, initiator, tunnel


@pytest.fixture(scope="module")
def shared(tmp_path_factory, sim_env) -> tuple[Host, Host, str]:
    """A healthy tunnel for the tests that plant a problem they can take back."""
    return open_tunnel(tmp_path_factory.mktemp("shared"), sim_env)


@pytest.fixture
def sides(shared) -> Iterator[tuple[Host, Host, str]]:
    """The shared tunnel; its initiator conf is restored after each test."""
    _, initiator, tunnel = shared
    conf = TunnelConf.load(tunnel, initiator.conf_dir)
    saved = dict(conf.values)
    try:
        yield shared
    finally:
        conf.values = saved
        conf.save()  # also makes it 0600 again


@pytest.fixture
def own_sides(tmp_path, sim_env) -> tuple[Host, Host, str]:
    """A tunnel of the test's own, for problems that cannot be taken back."""
    return open_tunnel(tmp_path, sim_env)


@pytest.fixture(scope="module")
def programs(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("programs")
    return {
        "static": binaries.static_program(directory),
        "go": binaries.go_marked_program(directory),
    }


def doctor(host: Host, *args: str, env: dict[str, str] | None = None):
    result = host.run("doctor", *args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def findings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(("error:", "warning:"))]


def the_error(result: subprocess.CompletedProcess[str], check: str) -> str:
    """The one error line of `check`; doctor exited 1."""
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in findings(result) if line.startswith(f"error: {check}: ")]
    assert len(lines) == 1, result.stdout
    return lines[0]


def test_healthy_tunnel_has_no_findings(sides):
    listener, initiator, tunnel = sides
    for host in (initiator, listener):
        result = doctor(host, tunnel, "--", "sh", "-c", "true")
        assert result.returncode == 0, result.stdout
        assert findings(result) == []
        assert result.stdout.startswith("no problems found (conf, permissions, expiry, tunnel")


def test_json_report(sides, programs):
    _, initiator, tunnel = sides
    result = initiator.run("--format", "json", "doctor")  # every tunnel with a conf here
    healthy = json.loads(result.stdout)
    assert result.returncode == 0
    assert healthy["ok"] is True and healthy["findings"] == [] and healthy["tunnel_ids"] == [tunnel]
    result = initiator.run("--format", "json", "doctor", tunnel, "--", str(programs["static"]))
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ok"] is False
    [finding] = report["findings"]
    assert finding["check"] == "program" and finding["severity"] == "error"


def test_static_binary(sides, programs):
    _, initiator, tunnel = sides
    static = programs["static"]
    line = the_error(doctor(initiator, tunnel, "--", str(static), "--flag"), "program")
    assert str(static) in line and "statically linked" in line


def test_go_binary(sides, programs):
    _, initiator, tunnel = sides
    program = programs["go"]
    assert "Go program" in the_error(doctor(initiator, tunnel, "--", str(program)), "program")


def test_world_readable_conf(sides):
    _, initiator, tunnel = sides
    conf = TunnelConf.load(tunnel, initiator.conf_dir)
    conf.path.chmod(0o644)
    result = doctor(initiator, tunnel)
    line = the_error(result, "permissions")
    assert "mode 0644" in line and f"chmod 600 {conf.path}" in line
    assert conf.lankey not in result.stdout + result.stderr


def test_tunnel_expired_in_transfer(own_sides, control):
    listener, initiator, tunnel = own_sides
    control.expire_tunnel(tunnel)  # Transfer then shows it STOPPED (event TUNNEL_EXPIRED)
    for host in (initiator, listener):
        line = the_error(doctor(host, tunnel), "tunnel")
        assert f"tunnel {tunnel} is STOPPED: its connections are refused" in line


def test_tunnel_expired_by_its_conf(sides):
    _, initiator, tunnel = sides
    conf = TunnelConf.load(tunnel, initiator.conf_dir)
    conf.set(tunnel_expiration_time=int(time.time()) - 60)
    conf.save()
    line = the_error(doctor(initiator, tunnel), "expiry")
    assert "expired at" in line and f"initialize --force {tunnel}" in line


def test_silent_access_point(sides, control):
    """The access point takes the connection and never answers the handshake.

    (The simulator's `blackhole:leg=1` is not used: it drops only the bytes of connections
    already set up, after the handshake, which no probe can see without sending data to
    the listening application.)"""
    _, initiator, tunnel = sides
    control.add_fault(f"stall_handshake:leg=1,tunnel={tunnel}")
    line = the_error(doctor(initiator, tunnel, "--timeout", "1"), "access-point")
    contact = TunnelConf.load(tunnel, initiator.conf_dir).connector_contact_string
    assert "sent no LAN handshake answer within 1 s" in line and contact in line


def test_blackholed_access_point(sides):
    """A blackhole drops packets: the access point's port takes no connection at all. Made
    real on loopback with a listening socket whose accept queue is full (the kernel then
    drops the SYNs), put where the conf and the tunnel say the access point is."""
    _, initiator, tunnel = sides
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    try:
        for _ in range(3):  # a backlog of 0 still takes one; more fill it
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(hole.getsockname())
            fillers.append(filler)
        conf = TunnelConf.load(tunnel, initiator.conf_dir)
        conf.set(connector_contact_string=f"127.0.0.1:{hole.getsockname()[1]}")
        conf.save()
        # Not logged in on purpose: doctor then probes the conf's contact.
        env = initiator.env()
        env.pop("GLOBUS_STREAMS_CLIENT_ID")
        env.pop("GLOBUS_STREAMS_CLIENT_SECRET")
        result = doctor(initiator, tunnel, "--timeout", "1", env=env)
        line = the_error(result, "access-point")
        assert "no TCP answer" in line or "no LAN handshake answer" in line
        assert "warning: tunnel: the tunnel's state was not checked" in result.stdout
    finally:
        for filler in fillers:
            filler.close()
        hole.close()


def test_revoked_secret(own_sides, control):
    _, initiator, tunnel = own_sides
    control.revoke_secret(TunnelConf.load(tunnel, initiator.conf_dir).lankey_id)
    line = the_error(doctor(initiator, tunnel), "access-point")
    assert "STALE_SECRET" in line and f"initialize --force {tunnel}" in line


def test_unknown_tunnel_and_missing_conf(sides):
    _, initiator, _ = sides
    other = str(uuid.uuid4())
    result = doctor(initiator, other)
    assert "not initialized here" in the_error(result, "conf")
    assert "not found" in the_error(result, "tunnel")


def test_stray_and_missing_variables(sides):
    _, initiator, tunnel = sides
    env = initiator.env(
        GLOBUS_STREAMS_DEBG="1",
        GLOBUS_STREAMS_TUNNELS=tunnel,
        GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="10s",
        GLOBUS_STREAMS_CLI="/nonexistent/globus-streams",
    )
    result = doctor(initiator, tunnel, env=env)
    lines = findings(result)
    assert result.returncode == 1  # the CLI the library would run does not exist
    assert any("GLOBUS_STREAMS_DEBG is not a variable" in line for line in lines)
    assert any("LD_PRELOAD does not load the intercept library" in line for line in lines)
    assert any("GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS is not" in line for line in lines)
    assert any(line.startswith("error: variables: GLOBUS_STREAMS_CLI") for line in lines)
    secret = env["GLOBUS_STREAMS_CLIENT_SECRET"]
    assert secret not in result.stdout + result.stderr


def test_doctor_under_the_launcher_sees_the_preload(sides):
    """Run inside the launcher, doctor sees the variables a launched program gets: none stray."""
    _, initiator, tunnel = sides
    launcher = str(Path(sys.executable).parent / "globus-streams-launch.sh")
    globus_streams = str(Path(sys.executable).parent / "globus-streams")
    result = subprocess.run(
        [launcher, tunnel, globus_streams, "doctor", tunnel],
        env=initiator.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert findings(result) == []
