"""Network faults through the control API ($ORBIT_SIM_URL) and the Simulator's Python API."""

from __future__ import annotations

import socket
import time

import pytest

import orbit_sim
from orbit_sim.control.client import SimControl

from .apps import gsla_connect
from .conftest import StreamWorld


def _round_trip(sock: socket.socket) -> float:
    start = time.monotonic()
    sock.sendall(b"x")
    assert sock.recv(1) == b"x"
    return time.monotonic() - start


def test_faults_set_and_removed_through_the_control_api(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel()
    server = orbit_sim.serve(tls_streams.sim)
    try:
        control = SimControl(server.env["ORBIT_SIM_URL"])
        added = control.add_fault("latency:leg=2,direction=downstream,ms=150")
        assert added["kind"] == "latency" and added["leg"] == 2
        tls_streams.gateway.apply_faults()
        with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
            assert _round_trip(sock) >= 0.150
        control.add_fault("refuse:leg=1")
        tls_streams.gateway.apply_faults()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(rig.address, timeout=2).close()
        control.clear_faults()
        tls_streams.gateway.apply_faults()
        with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
            _round_trip(sock)
        control.close()
    finally:
        server.stop()


def test_spec_strings_through_the_simulator(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel()
    fault = tls_streams.sim.add_fault("refuse:leg=1")
    tls_streams.gateway.apply_faults()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(rig.address, timeout=2).close()
    assert tls_streams.sim.remove_fault(fault.id)
    tls_streams.gateway.apply_faults()
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        _round_trip(sock)
