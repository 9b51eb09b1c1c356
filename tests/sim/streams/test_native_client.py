"""The C library's GSLA client (through ctypes) through a tunnel (skipped if not built)."""

from __future__ import annotations

import errno
import hashlib
import socket

import pytest

from orbit_globus.native import InterceptLibrary
from orbit_sim.faults.base import Fault
from orbit_sim.faults.corrupt_handshake import CorruptHandshake
from orbit_sim.faults.stall_handshake import StallHandshake

from .apps import ListenerApp, digest, numbered_blocks, recv_all
from .conftest import StreamWorld, TunnelRig


@pytest.fixture(scope="module")
def native() -> InterceptLibrary:
    try:
        return InterceptLibrary()
    except (FileNotFoundError, OSError) as exc:
        pytest.skip(f"C library not built: {exc}")


def native_connect(
    lib: InterceptLibrary, rig: TunnelRig, timeout: float = 10.0
) -> tuple[socket.socket, int]:
    """Connect and let the C machine authenticate; returns the socket and its errno."""
    sock = socket.create_connection(rig.address, timeout=timeout)
    with lib.client(
        tunnel_id=rig.id, secret=rig.initiator.secret, secret_id=rig.initiator.secret_id
    ) as handshake:
        error = handshake.run(sock, timeout)
    return sock, error


def test_c_client_echo_and_half_close(native: InterceptLibrary, streams: StreamWorld) -> None:
    rig = streams.tunnel()
    sock, error = native_connect(native, rig)
    with sock:
        assert error == 0
        payload = b"from the C handshake " * 5000
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        assert recv_all(sock) == payload


def test_c_client_one_gib_with_matching_sha256(
    native: InterceptLibrary, tls_streams: StreamWorld
) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=digest))
    sock, error = native_connect(native, rig, timeout=120)
    sent = hashlib.sha256()
    with sock:
        assert error == 0
        for block in numbered_blocks(1 << 30, seed=b"native"):
            sent.update(block)
            sock.sendall(block)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(64) == sent.digest()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [(StallHandshake(leg=1), errno.ETIMEDOUT), (CorruptHandshake(leg=1), errno.ECONNREFUSED)],
    ids=["stalled-times-out", "corrupted-is-refused"],
)
def test_c_client_handshake_faults(
    native: InterceptLibrary, streams: StreamWorld, fault: Fault, expected: int
) -> None:
    rig = streams.tunnel()
    streams.sim.faults.add(fault)
    streams.gateway.apply_faults()
    try:
        sock, error = native_connect(native, rig, timeout=0.5)
        sock.close()
    finally:
        streams.sim.faults.remove(fault.id)
    assert error == expected
    assert rig.app.accepted == 0
