"""Real programs through a tunnel while the simulator breaks things (SPEC 5.4 faults)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from conformance.conftest import Output, need, sha256
from orbit_sim.control import SimControl
from orbit_sim.testing import open_tunnel

ECHO = str(Path(__file__).parent / "apps" / "echo.py")
PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL


def _echo_once(tunnel, data: bytes, procs) -> subprocess.Popen[bytes]:
    client = tunnel.connect(
        [sys.executable, ECHO, "send", tunnel.contact_host, str(tunnel.contact_port)],
        stdin=PIPE,
        stdout=PIPE,
        stderr=PIPE,
    )
    procs.append(client)
    client.echoed = Output(client, data).result()  # type: ignore[attr-defined]
    return client


def _control(tunnel) -> SimControl:
    return SimControl(tunnel.server.env["ORBIT_SIM_URL"])


def test_restart_mid_session_next_connection_uses_the_new_contact(
    streams_server, tmp_path: Path, payload: bytes, procs
) -> None:
    t = open_tunnel(streams_server, tmp_path)  # the default TTL: a minute
    procs.append(t.listen([sys.executable, ECHO, "serve", str(t.listener_port), "2"]))
    assert _echo_once(t, payload, procs).echoed == payload
    before = t.initiator.conf(t.id).connector_contact_string

    with _control(t) as control:
        control.restart_tunnel(t.id)
    # The conf's contact is still within its TTL but refused: the library asks the CLI for
    # a fresh one (contact-lookup --refresh) and retries once, inside the same connect().
    client = _echo_once(t, payload[::-1], procs)
    assert client.echoed == payload[::-1], t.debug_log("initiator")
    assert t.initiator.conf(t.id).connector_contact_string != before
    assert "refused the connection" in t.debug_log("initiator")


def _flowing(proc: subprocess.Popen[bytes]) -> threading.Event:
    """Set once `proc`'s stdout gives its first bytes; the rest is read and dropped."""
    arrived = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        while proc.stdout.read1(1 << 20):
            arrived.set()

    threading.Thread(target=drain, daemon=True).start()
    return arrived


def test_listener_access_point_closed_mid_stream_ends_both_programs(streams_tunnel, procs) -> None:
    need("nc.openbsd")
    t = streams_tunnel
    server = t.listen(["nc.openbsd", "-l", str(t.listener_port)], stdout=PIPE, stdin=DEVNULL)
    # An endless stream: only the fault can end it.
    client = t.connect(
        ["sh", "-c", f"exec nc.openbsd {t.contact_host} {t.contact_port} < /dev/zero"],
        stdout=DEVNULL,
    )
    procs += [server, client]
    # The fault must find the stream flowing: on a busy machine the launchers and the
    # handshakes can take longer than any fixed wait.
    assert _flowing(server).wait(60), t.debug_log("initiator")
    assert client.poll() is None and server.poll() is None, t.debug_log("initiator")

    with _control(t) as control:
        closed = control.add_fault("close_listener:")
        try:
            # Both ends see the connection end; neither hangs.
            assert client.wait(30) is not None
            assert server.wait(30) is not None
        finally:  # the server may serve further tests
            control.remove_fault(closed["id"])


def test_revoked_secret_is_refused_and_the_log_says_why(streams_tunnel, procs) -> None:
    need("nc.openbsd")
    t = streams_tunnel
    secret_id = t.initiator.conf(t.id).lankey_id
    with _control(t) as control:
        assert control.revoke_secret(secret_id)
    client = t.connect(
        ["nc.openbsd", "-v", "-N", t.contact_host, str(t.contact_port)],
        stdin=PIPE,
        stderr=PIPE,
    )
    procs.append(client)
    _, err = client.communicate(b"must not arrive", timeout=60)
    assert client.returncode != 0
    assert b"refused" in err.lower(), err
    assert "handshake refused" in t.debug_log("initiator")


def test_expired_tunnel_fails_cleanly(streams_tunnel, procs) -> None:
    need("nc.openbsd")
    t = streams_tunnel
    with _control(t) as control:
        control.expire_tunnel(t.id)
    client = t.connect(
        ["nc.openbsd", "-w", "10", "-N", t.contact_host, str(t.contact_port)],
        stdin=PIPE,
        stderr=PIPE,
    )
    procs.append(client)
    client.communicate(b"x", timeout=60)
    assert client.returncode != 0, t.debug_log("initiator")


def test_slow_and_capped_links_keep_data_intact(streams_server, tmp_path: Path, procs) -> None:
    need("nc.openbsd")
    with SimControl(streams_server.env["ORBIT_SIM_URL"]) as control:
        control.add_fault("latency:leg=2,ms=50")
        control.add_fault("bandwidth:leg=3,kib_per_s=2048")
    t = open_tunnel(streams_server, tmp_path)
    data = bytes(range(256)) * 4096  # 1 MiB at 2 MiB/s
    server = t.listen(["nc.openbsd", "-l", str(t.listener_port)], stdout=PIPE, stdin=DEVNULL)
    received = Output(server)
    client = t.connect(["nc.openbsd", "-N", t.contact_host, str(t.contact_port)], stdin=PIPE)
    procs += [server, client]
    Output(client, data).result()
    assert sha256(received.result()) == sha256(data), t.debug_log("listener")


def _fault_cli(server, *args: str) -> str:
    """`orbit-sim fault ...` as a shell user runs it, against the running server."""
    env = {**os.environ, "ORBIT_SIM_URL": server.env["ORBIT_SIM_URL"]}
    argv = [sys.executable, "-m", "orbit_sim.cli", "fault", *args]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _nc_through(t, data: bytes, procs) -> tuple[bytes, subprocess.Popen[bytes]]:
    """Stream `data` from an initiating nc to a listening nc; what arrived, and the server."""
    server = t.listen(["nc.openbsd", "-l", str(t.listener_port)], stdout=PIPE, stdin=DEVNULL)
    received = Output(server)
    client = t.connect(
        ["nc.openbsd", "-N", t.contact_host, str(t.contact_port)], stdin=PIPE, stderr=DEVNULL
    )
    procs += [server, client]
    Output(client, data).result()
    return received.result(), server


def test_faults_from_the_shell_slicer_jitter_then_limit_data(
    streams_server, tmp_path: Path, payload: bytes, procs
) -> None:
    need("nc.openbsd")
    t = open_tunnel(streams_server, tmp_path)
    added = _fault_cli(
        streams_server,
        "add",
        "slicer:leg=3,direction=upstream,average_size=1400,size_variation=600",
        "latency:leg=2,ms=3,jitter_ms=3",
    )
    assert _fault_cli(streams_server, "list") == added
    try:
        received, _ = _nc_through(t, payload, procs)
        assert sha256(received) == sha256(payload), t.debug_log("listener")
    finally:
        _fault_cli(streams_server, "remove", *(line.split()[0] for line in added.splitlines()))

    limit = 100_000
    added = _fault_cli(streams_server, "add", f"limit_data:leg=1,direction=upstream,bytes={limit}")
    try:
        received, server = _nc_through(t, payload, procs)
        # The listener sees a clean end of stream after exactly the limit.
        assert received == payload[:limit], t.debug_log("initiator")
        assert server.wait(30) == 0
    finally:
        _fault_cli(streams_server, "remove", added.split()[0])
    assert _fault_cli(streams_server, "list") == ""
