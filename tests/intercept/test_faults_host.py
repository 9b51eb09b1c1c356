"""Hosts the library must not surprise (SPEC 3.4), as a plain C program (faults/fault_host.c)
that needs the CLI for an expired contact: SIGCHLD ignored, its own fork handlers, fds 0-2
closed at start-up; and a peer that resets the connection in the middle of the handshake,
on either side."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orbit_globus.lan import ClientHandshake, Credential, Role
from tests.intercept.ap_stub import connect_as_listener_ap
from tests.intercept.confs import ConfDir
from tests.intercept.faults import (
    DIGEST,
    FaultPrograms,
    build_fault_programs,
    expired,
    fake_cli,
    parse_line,
    run_host,
)
from tests.intercept.netutil import LOOPBACK
from tests.intercept.targets import free_port, preload_env
from tests.intercept.tunnels import FAKE_PORT, Tunnel

LISTENER_APP = Path(__file__).with_name("listener_app.py")


@pytest.fixture(scope="module")
def programs(build_module, tmp_path_factory) -> FaultPrograms:  # type: ignore[no-untyped-def]
    return build_fault_programs(build_module, tmp_path_factory.mktemp("faults"))


def needing_the_cli(tunnel: Tunnel, folder: Path) -> dict[str, str]:
    """The conf's contact expired: connect() must run the CLI, which answers the stub's."""
    tunnel.write_conf(updated=expired(), ttl=60)
    env = tunnel.env
    env["GLOBUS_STREAMS_CLI"] = str(fake_cli(folder, tunnel.ap.contact))
    return env


def cli_calls(folder: Path) -> list[str]:
    log = folder / "cli.log"
    return log.read_text().splitlines() if log.exists() else []


def test_host_with_sigchld_ignored(programs, tunnels, hash_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The kernel reaps the CLI itself (waitpid: ECHILD); its answer still counts."""
    tunnel = tunnels(hash_server.address)
    env = needing_the_cli(tunnel, tmp_path)
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env, "--ignore-sigchld")
    assert run.reply_ok, run
    assert cli_calls(tmp_path) == [f"environment contact-lookup {tunnel.id}"]


def test_host_fork_handlers_never_run(programs, tunnels, hash_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The CLI is started with posix_spawn: the host's pthread_atfork handlers stay idle."""
    tunnel = tunnels(hash_server.address)
    env = needing_the_cli(tunnel, tmp_path)
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env, "--atfork")
    assert run.reply_ok, run
    assert len(cli_calls(tmp_path)) == 1
    assert run.fields["atfork"] == "0/0/0"


def test_host_with_fds_0_to_2_closed(programs, tunnels, hash_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The host's next file takes fd 0 and the library's pipe and sockets take 1, 2...:
    neither the CLI's answer nor a debug line may land in the host's own file."""
    tunnel = tunnels(hash_server.address)
    env = needing_the_cli(tunnel, tmp_path)
    result = tmp_path / "result.txt"
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env, "--closed-std", str(result))
    lines = result.read_text().splitlines()
    assert len(lines) == 1, lines  # only the host's own line
    fields = parse_line(lines[0])
    assert fields["connect"] == "ok" and fields["tail"] == DIGEST, (lines, run)
    assert run.returncode == 0
    assert len(cli_calls(tmp_path)) == 1


class ResettingAccessPoint:
    """Accepts, reads the HELLO, then resets the connection (RST, not FIN)."""

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK[socket.AF_INET], 0))
        host, port = self._listener.getsockname()[:2]
        self.contact = f"{host}:{port}"
        self.hellos = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn:
                if len(conn.recv(72, socket.MSG_WAITALL)) == 72:
                    self.hellos += 1
                reset(conn)

    def stop(self) -> None:
        self._listener.close()
        self._thread.join(5)


def reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


@pytest.fixture
def resetting_ap() -> Iterator[ResettingAccessPoint]:
    ap = ResettingAccessPoint()
    yield ap
    ap.stop()


def test_reset_mid_handshake_initiator(
    programs, confs: ConfDir, resetting_ap, built_library
) -> None:  # type: ignore[no-untyped-def]
    tunnel_id = str(uuid.uuid4())
    confs.initiator(tunnel_id, resetting_ap.contact, "secret==", uuid.uuid4())
    env = preload_env(built_library, confs.path)
    run = run_host(programs.host, f"globus.{tunnel_id}", FAKE_PORT, env)
    assert run.returncode == 1, run
    assert run.fields["connect"] == "ECONNREFUSED"
    assert resetting_ap.hellos >= 1  # the reset came after the HELLO, mid-handshake


def test_reset_mid_handshake_listener(built_library, confs: ConfDir) -> None:  # type: ignore[no-untyped-def]
    """A peer that resets after its HELLO is dropped; the next connection is served."""
    tunnel_id, credential = str(uuid.uuid4()), Credential("listener-secret", uuid.uuid4())
    confs.listener(tunnel_id, credential.secret, credential.secret_id)
    port = free_port()
    env = preload_env(
        built_library, confs.path, **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{port}": tunnel_id}
    )
    command = [sys.executable, str(LISTENER_APP), str(port), "4", "blocking", "1"]
    app = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "listening"
        address = (LOOPBACK[socket.AF_INET], port)
        rude = socket.create_connection(address, timeout=10)
        hello = ClientHandshake(
            tunnel_id=tunnel_id,
            secret=credential.secret,
            secret_id=credential.secret_id,
            role=Role.ACCESS_POINT,
        ).start()
        rude.sendall(hello)  # a genuine HELLO; the reset comes instead of the RESPONSE
        reset(rude)
        with connect_as_listener_ap(address, tunnel_id, credential) as sock:
            sock.sendall(b"after the reset")
            sock.shutdown(socket.SHUT_WR)
            assert len(sock.recv(64)) == 64  # the application's SHA-256 answer
        out, _ = app.communicate(timeout=20)
        assert out.startswith("conn ")
    finally:
        app.kill()
        app.wait(10)
