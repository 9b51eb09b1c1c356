"""Where relays run: short connections stay on the first loop; without the native relay
loop (test_native_relays.py), a heavy listener-side relay with a TLS WAN leg moves to the
second once nothing is in flight, and its bytes survive the move. Also the spare WAN
connection a tunnel connection takes."""

from __future__ import annotations

import contextlib
import time

import pytest

from orbit_sim.faults.base import Fault
from orbit_sim.faults.close_listener import CloseListener
from orbit_sim.faults.corrupt_handshake import CorruptHandshake
from orbit_sim.faults.latency import Latency
from orbit_sim.faults.refuse import Refuse
from orbit_sim.streams.placement import HEAVY_BYTES, TunnelPoint

from .apps import (
    ListenerApp,
    assert_closed_since,
    echo_exactly,
    echo_through,
    gsla_connect,
    open_fds,
    wait_until,
)
from .conftest import StreamWorld, TunnelRig, own_stream_world


def relays(world: StreamWorld, rig: TunnelRig) -> tuple[int, int]:
    """(relays on the first loop, relays on the second) of the rig's tunnel."""
    point = world.gateway.tunnel_point(rig.id)
    assert isinstance(point, TunnelPoint)
    placement = world.gateway.placement
    near = placement.near.thread.run(lambda: len(point.relays))
    far = placement.far.thread.run(lambda: len(point.far.relays))
    return near, far


def test_a_short_connection_keeps_both_relays_on_the_first_loop(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        sock.sendall(b"ping")
        assert sock.recv(4) == b"ping"
        assert relays(tls_streams, rig) == (2, 0)


def test_a_heavy_tls_relay_moves_to_the_second_loop_and_loses_no_byte(
    python_tls_streams: StreamWorld,
) -> None:
    rig = python_tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_exactly(sock, 4 * HEAVY_BYTES)
        assert relays(python_tls_streams, rig) == (1, 1)
        sock.sendall(b"still open")
        assert sock.recv(10) == b"still open"


def test_a_heavy_plain_relay_stays_on_the_first_loop(plain_streams: StreamWorld) -> None:
    rig = plain_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_exactly(sock, 2 * HEAVY_BYTES)
        assert relays(plain_streams, rig) == (2, 0)


def test_a_relay_under_a_fault_stays_where_its_effect_runs(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    latency = Latency(leg=3, ms=1)
    tls_streams.sim.faults.add(latency)
    tls_streams.gateway.apply_faults()
    try:
        with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
            echo_exactly(sock, 2 * HEAVY_BYTES)
            assert relays(tls_streams, rig) == (2, 0)
    finally:
        tls_streams.sim.faults.remove(latency.id)
        tls_streams.gateway.apply_faults()


def test_closing_the_tunnel_closes_a_moved_relay(python_tls_streams: StreamWorld) -> None:
    rig = python_tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_through(sock, 2 * HEAVY_BYTES)
        assert relays(python_tls_streams, rig) == (1, 1)
        python_tls_streams.gateway.close(rig.id)
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(65536):
                pass
    assert rig.app.wait_closed()


# -- the spare WAN connection -------------------------------------------------------------


def holds_spare(world: StreamWorld, rig: TunnelRig) -> bool:
    point = world.gateway.tunnel_point(rig.id)
    assert point is not None
    pool = world.gateway.initiator.pool
    return world.gateway.placement.near.thread.run(lambda: pool.idle_count(point.sides)) > 0


def wait_for_spare(world: StreamWorld, rig: TunnelRig, held: bool = True) -> None:
    wait_until(lambda: holds_spare(world, rig) == held, f"spare held: {held}")


def test_a_spare_waits_before_the_first_connection_and_after_each(
    streams: StreamWorld,
) -> None:
    rig = streams.tunnel(ListenerApp())
    for _ in range(3):
        wait_for_spare(streams, rig)
        with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
    assert rig.app.accepted == 3


@pytest.mark.parametrize(
    "make_fault",
    [
        lambda rig: CorruptHandshake(leg=2),
        lambda rig: Refuse(leg=2),
        lambda rig: CloseListener(access_point=rig.tunnel.listener_ap_id),
    ],
    ids=["corrupt_handshake", "refuse", "close_listener"],
)
def test_a_held_spare_never_bypasses_a_fault_on_the_wan_leg(
    streams: StreamWorld, make_fault: object
) -> None:
    rig = streams.tunnel(ListenerApp())
    wait_for_spare(streams, rig)
    fault: Fault = make_fault(rig)  # type: ignore[operator]
    streams.sim.faults.add(fault)
    streams.gateway.apply_faults()
    try:
        with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
            sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                sock.sendall(b"x")
                assert sock.recv(1) == b""
    finally:
        streams.sim.faults.remove(fault.id)
        streams.gateway.apply_faults()
    assert rig.app.accepted == 0


def test_an_idle_spare_is_dropped_after_the_handshake_timeout(tls_streams: StreamWorld) -> None:
    tls_streams.gateway.handshake_timeout = 0.3
    rig = tls_streams.tunnel(ListenerApp())
    wait_for_spare(tls_streams, rig)
    wait_for_spare(tls_streams, rig, held=False)
    # The listener access point's side of it ended too: no set-up waits for a preamble.
    wan_point = tls_streams.gateway.wan_point(rig.tunnel.listener_ap_id)
    near = tls_streams.gateway.placement.near.thread
    deadline = time.monotonic() + 10
    while near.run(lambda: len(wan_point.tasks)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert near.run(lambda: len(wan_point.tasks)) == 0
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"


def test_shutting_down_the_gateway_closes_every_socket_spares_included() -> None:
    before = open_fds()
    with own_stream_world(wan_tls=True) as world:
        rig = world.tunnel(ListenerApp())
        wait_for_spare(world, rig)
        with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
        wait_for_spare(world, rig)
    assert_closed_since(before)
