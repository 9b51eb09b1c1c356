"""The gateway hook contract (interfaces.md): open on ACTIVE and after restart, close on
stop, expiry and delete; the default PortOnlyGateway hands out real, distinct ports."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from orbit_sim import PortOnlyGateway, Simulator
from orbit_sim.services.transfer.models import STOP_DELAY


class RecordingGateway:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._next_port = 40000

    def open(self, tunnel: Any) -> tuple[str, int]:
        self.calls.append(("open", tunnel.id))
        self._next_port += 1
        return "127.0.0.1", self._next_port

    def close(self, tunnel_id: str) -> None:
        self.calls.append(("close", tunnel_id))


def _active(sim: Simulator, **options: Any) -> str:
    world = sim.world
    tunnel = sim.transfer.create_tunnel(
        world.client_id, world.initiator_ap_id, world.listener_ap_id, **options
    )
    sim.transfer.set_listener_contact(tunnel, "127.0.0.1", 9000)
    return tunnel.id


def test_open_and_close_follow_the_lifecycle() -> None:
    gateway = RecordingGateway()
    with Simulator(gateway=gateway) as sim:
        tunnel_id = _active(sim, restartable=True)
        assert gateway.calls == [("open", tunnel_id)]
        sim.restart_tunnel(tunnel_id)
        assert gateway.calls[1:] == [("close", tunnel_id), ("open", tunnel_id)]
        sim.stop_tunnel(tunnel_id)
        assert gateway.calls[3] == ("close", tunnel_id)
        sim.advance(STOP_DELAY)
        sim.transfer.delete_tunnel(sim.transfer.get_tunnel(tunnel_id))
        assert gateway.calls[-1] == ("close", tunnel_id)

        expiring = _active(sim, lifetime_mins=1)
        sim.advance(60)
        assert gateway.calls[-1] == ("close", expiring)
        assert sim.transfer.get_tunnel(expiring).state == "STOPPED"


def test_port_only_gateway_reserves_distinct_ports_and_moves_on_restart() -> None:
    with Simulator() as sim:
        assert isinstance(sim.gateway, PortOnlyGateway)
        first = _active(sim, restartable=True)
        second = _active(sim)
        ports = {sim.transfer.get_tunnel(t).initiator_port for t in (first, second)}
        assert len(ports) == 2
        before = sim.transfer.get_tunnel(first).initiator_port
        sim.restart_tunnel(first)
        after = sim.transfer.get_tunnel(first).initiator_port
        assert after != before
        # The reserved port really is held: nobody else can bind it meanwhile.
        probe = socket.socket()
        try:
            with pytest.raises(OSError):
                probe.bind(("127.0.0.1", int(after or 0)))
        finally:
            probe.close()


def test_real_clock_expiry_is_applied_without_any_request() -> None:
    import time

    gateway = RecordingGateway()
    with Simulator("real", gateway=gateway) as sim:
        tunnel_id = _active(sim, lifetime_mins=1)
        with sim.lock:
            sim.transfer.get_tunnel(tunnel_id).created_time -= 60  # its minute is up
        deadline = time.monotonic() + 10
        while ("close", tunnel_id) not in gateway.calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ("close", tunnel_id) in gateway.calls
        assert sim.transfer.get_tunnel(tunnel_id).state == "STOPPED"
