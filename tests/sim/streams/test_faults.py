"""Each network fault proves its effect on a real tunnel connection (SPEC 5.4).

Bounds are one-sided, in the direction a loaded machine can not cross: latency is at
least what was configured; a capped transfer is no faster than the cap (+20 % for the
first slice's burst). How close to the cap it gets is benchmarks/bench_faults.py's.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from orbit_globus.lan import HandshakeTimeout, PeerMisbehaved, Status
from orbit_sim.faults import parse_fault_spec
from orbit_sim.faults.bandwidth import Bandwidth
from orbit_sim.faults.base import Fault
from orbit_sim.faults.blackhole import Blackhole
from orbit_sim.faults.close_listener import CloseListener
from orbit_sim.faults.corrupt_handshake import CorruptHandshake
from orbit_sim.faults.latency import Latency
from orbit_sim.faults.refuse import Refuse
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.faults.stall_handshake import StallHandshake
from orbit_sim.faults.timeout import Timeout

from .apps import ListenerApp, digest, gsla_connect, hold, numbered_blocks
from .conftest import StreamWorld, TunnelRig


@contextlib.contextmanager
def fault(world: StreamWorld, f: Fault) -> Iterator[Fault]:
    world.sim.faults.add(f)
    world.gateway.apply_faults()
    try:
        yield f
    finally:
        world.sim.faults.remove(f.id)
        world.gateway.apply_faults()


def ended(sock: socket.socket, timeout: float = 5.0) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True


def send_into_a_closing_tunnel(world: StreamWorld, rig: TunnelRig, f: Fault) -> None:
    """With `f` active, a connection authenticates, sends, and is closed unanswered."""
    with fault(world, f), gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(b"must not arrive")
        assert ended(sock)


def wait_received(app: ListenerApp, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while app.received < count and time.monotonic() < deadline:
        time.sleep(0.005)


def round_trip(sock: socket.socket) -> float:
    start = time.monotonic()
    sock.sendall(b"x")
    assert sock.recv(1) == b"x"
    return time.monotonic() - start


@pytest.mark.parametrize("leg", [1, 2, 3])
def test_latency_on_each_leg_delays_at_least_as_configured(streams: StreamWorld, leg: int) -> None:
    rig = streams.tunnel()
    with (
        fault(streams, Latency(leg=leg, direction="upstream", ms=120)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        assert round_trip(sock) >= 0.120
    with (
        fault(streams, Latency(leg=leg, ms=80)),  # both directions: paid twice
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        assert round_trip(sock) >= 0.160
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        round_trip(sock)  # removed: still works (no upper bound asserted)


def test_bandwidth_cap_upstream(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=digest))
    cap = 2048 * 1024  # bytes per second
    data = b"".join(numbered_blocks(3 << 20))
    with (
        fault(tls_streams, Bandwidth(leg=2, direction="upstream", kib_per_s=cap / 1024)),
        gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock,
    ):
        start = time.monotonic()
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(64) == hashlib.sha256(data).digest()  # sent once all has arrived
        rate = len(data) / (time.monotonic() - start)
    assert rate <= 1.2 * cap, f"{rate / 1024:.0f} KiB/s under a {cap / 1024:.0f} cap"


def test_bandwidth_cap_downstream(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel()
    cap = 2048 * 1024
    data = b"".join(numbered_blocks(3 << 20))
    with (
        fault(tls_streams, Bandwidth(leg=3, direction="downstream", kib_per_s=cap / 1024)),
        gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock,
    ):
        sock.sendall(data[:1])
        assert sock.recv(1) == data[:1]  # the connection is up; now time the echo back
        start = time.monotonic()
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = 0
        while chunk := sock.recv(1 << 20):
            received += len(chunk)
        rate = received / (time.monotonic() - start)
    assert received == len(data)
    assert rate <= 1.2 * cap, f"{rate / 1024:.0f} KiB/s under a {cap / 1024:.0f} cap"


def test_reset_after_downstream_bytes_on_arrow_1(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    received = 0
    with (
        fault(streams, ResetAfter(leg=1, direction="downstream", bytes=70_000)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(bytes(200_000))
        with pytest.raises(ConnectionResetError):  # noqa: PT012 - count until the reset
            while chunk := sock.recv(65536):
                received += len(chunk)
    assert received == 70_000


@pytest.mark.parametrize(
    ("leg", "hole"),
    [(1, Blackhole), (2, Blackhole), (3, Blackhole), (2, functools.partial(Timeout, ms=0))],
)
def test_blackhole_ends_in_the_clients_timeout(
    streams: StreamWorld, leg: int, hole: Callable[..., Fault]
) -> None:
    """A blackhole, and a timeout of 0 (which never closes)."""
    rig = streams.tunnel()
    with (
        fault(streams, hole(leg=leg, direction="upstream")),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        sock.sendall(b"anyone there?")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)
    assert rig.app.received == 0


def test_stalled_handshake_on_arrow_1_times_the_client_out(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    with fault(streams, StallHandshake(leg=1)), pytest.raises(HandshakeTimeout):
        gsla_connect(rig.address, rig.id, rig.initiator, timeout=0.5).close()
    assert rig.app.accepted == 0


def test_stalled_handshake_on_arrow_3_times_the_listener_out(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold, handshake_timeout=0.5))
    send_into_a_closing_tunnel(streams, rig, StallHandshake(leg=3))
    assert rig.app.errors == ["TimeoutError"] and rig.app.received == 0


def test_stalled_handshake_on_arrow_2_ends_in_the_access_points_timeout(
    streams: StreamWorld,
) -> None:
    streams.gateway.handshake_timeout = 0.5  # the initiator access point gives up sooner
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    send_into_a_closing_tunnel(streams, rig, StallHandshake(leg=2))
    assert rig.app.accepted == 0


def test_corrupted_handshake_on_arrow_1_is_refused_by_the_client(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    with fault(streams, CorruptHandshake(leg=1)), pytest.raises(PeerMisbehaved):
        gsla_connect(rig.address, rig.id, rig.initiator).close()
    assert rig.app.accepted == 0


def test_corrupted_handshake_on_arrow_3_is_refused_by_the_listener(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    send_into_a_closing_tunnel(streams, rig, CorruptHandshake(leg=3))
    assert rig.app.wait_closed()
    assert rig.app.statuses == [Status.AUTH_FAILED] and rig.app.received == 0


def test_corrupted_handshake_on_arrow_2_never_reaches_the_listener(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    send_into_a_closing_tunnel(streams, rig, CorruptHandshake(leg=2))
    assert rig.app.accepted == 0


def test_refused_initiator_port_and_its_return(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    with fault(streams, Refuse(leg=1)), pytest.raises(ConnectionRefusedError):
        socket.create_connection(rig.address, timeout=2).close()
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:  # same port again
        assert round_trip(sock) >= 0


@pytest.mark.parametrize("leg", [2, 3])
def test_refused_inner_leg_closes_the_application_connection(
    streams: StreamWorld, leg: int
) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    send_into_a_closing_tunnel(streams, rig, Refuse(leg=leg))
    assert rig.app.accepted == 0


def test_closing_the_listener_access_point(streams: StreamWorld) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    with gsla_connect(rig.address, rig.id, rig.initiator) as before:
        before.sendall(b"x")
        wait_received(rig.app, 1)
        with fault(streams, CloseListener(access_point=rig.tunnel.listener_ap_id)):
            assert ended(before, timeout=2)
            with gsla_connect(rig.address, rig.id, rig.initiator) as during:
                assert ended(during, timeout=2)
    with gsla_connect(rig.address, rig.id, rig.initiator) as after:
        after.sendall(b"back")
        wait_received(rig.app, 5)
    assert rig.app.received == 5  # "x" before, "back" after, nothing in between


def test_faults_compose_and_come_from_specs(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    specs = ["latency:leg=1,direction=upstream,ms=60", "latency:leg=3,direction=downstream,ms=60"]
    faults = [parse_fault_spec(spec) for spec in specs]
    with (
        fault(streams, faults[0]),
        fault(streams, faults[1]),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        assert round_trip(sock) >= 0.120


def test_probability_zero_never_applies(streams: StreamWorld) -> None:
    rig = streams.tunnel()
    with (
        fault(streams, StallHandshake(leg=1, probability=0.0)),
        gsla_connect(rig.address, rig.id, rig.initiator, timeout=5) as sock,
    ):
        assert round_trip(sock) >= 0


def test_bad_fault_settings_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="leg must be one of 1, 2, 3"):
        parse_fault_spec("latency:leg=4")
    with pytest.raises(ValueError, match="direction must be"):
        parse_fault_spec("blackhole:direction=sideways")
    with pytest.raises(ValueError, match="kib_per_s"):
        parse_fault_spec("bandwidth:kib_per_s=0")
    with pytest.raises(ValueError, match="invalid value"):
        parse_fault_spec("reset_after:bytes=many")
