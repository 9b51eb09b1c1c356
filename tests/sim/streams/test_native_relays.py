"""The native relay loop: a heavy TLS stream's two relays run in C, and come back to
Python for everything it does not do itself (faults, closes, ends of stream, shutdown)
without losing or repeating a byte."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
from collections.abc import Callable

import pytest

from orbit_sim import Simulator
from orbit_sim.faults.latency import Latency
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.streams import StreamGateway, native
from orbit_sim.streams.native_relays import NativeRelay
from orbit_sim.streams.placement import HEAVY_BYTES, TunnelPoint

from .apps import ListenerApp, echo_through, gsla_connect
from .conftest import StreamWorld, TunnelRig

pytestmark = pytest.mark.skipif(
    native.load() is None, reason="native relay loop not built (sim/streams/native/build.py)"
)


def native_relays(world: StreamWorld, rig: TunnelRig) -> int:
    """How many of the tunnel's relays the native loop runs now."""
    point = world.gateway.tunnel_point(rig.id)
    assert isinstance(point, TunnelPoint)
    near = world.gateway.placement.near.thread
    return near.run(lambda: sum(isinstance(r, NativeRelay) for r in point.relays))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"not within 10 s: {what}"
        time.sleep(0.01)


def test_a_heavy_stream_runs_natively_both_ways_and_loses_no_byte(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        sent, received = echo_through(sock, 8 * HEAVY_BYTES)
        assert sent == received
        assert native_relays(tls_streams, rig) == 2
        # Small exchanges go through the native loop as well.
        for size in (1, 5, 4096, 70000):
            sock.sendall(b"n" * size)
            got = b""
            while len(got) < size:
                got += sock.recv(size - len(got))
            assert got == b"n" * size


def test_a_fault_added_mid_stream_takes_both_relays_back_to_python(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    latency = Latency(leg=2, ms=1)
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        sent, received = echo_through(sock, 2 * HEAVY_BYTES)
        assert sent == received
        assert native_relays(tls_streams, rig) == 2
        tls_streams.sim.faults.add(latency)
        tls_streams.gateway.apply_faults()
        wait_until(lambda: native_relays(tls_streams, rig) == 0, "relays back in Python")
        sent, received = echo_through(sock, 2 * HEAVY_BYTES)
        assert sent == received
        assert native_relays(tls_streams, rig) == 0  # the fault's pumps keep them
        tls_streams.sim.faults.remove(latency.id)
        tls_streams.gateway.apply_faults()
        sent, received = echo_through(sock, 2 * HEAVY_BYTES)
        assert sent == received
        assert native_relays(tls_streams, rig) == 2


def test_a_reset_fault_reaches_an_application_whose_stream_ran_natively(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock:
        echo_through(sock, 2 * HEAVY_BYTES)
        assert native_relays(tls_streams, rig) == 2
        tls_streams.sim.faults.add(ResetAfter(leg=2, bytes=1000))
        tls_streams.gateway.apply_faults()
        wait_until(lambda: native_relays(tls_streams, rig) == 0, "relays back in Python")
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            while True:
                sock.sendall(b"x" * 65536)
                if not sock.recv(65536):
                    raise ConnectionResetError("end of stream")  # a FIN would do as well


def test_half_closes_through_native_relays_end_the_stream_cleanly(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    for _ in range(2):  # the second stream may ride the first one's WAN connection
        with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
            sent, received = echo_through(sock, 2 * HEAVY_BYTES, end=True)
            assert sent == received
    assert rig.app.accepted == 2


def test_closing_the_tunnel_closes_native_relays(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_through(sock, 2 * HEAVY_BYTES)
        assert native_relays(tls_streams, rig) == 2
        tls_streams.gateway.close(rig.id)
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(65536):
                pass
    assert rig.app.wait_closed()


def test_shutting_down_the_gateway_mid_stream_closes_every_socket() -> None:
    before = set(os.listdir("/proc/self/fd"))
    gateway = StreamGateway(wan_tls=True)
    sim = Simulator("virtual", gateway=gateway)
    gateway.bind(sim)
    world = StreamWorld(sim, gateway)
    try:
        rig = world.tunnel(ListenerApp())
        sock = gsla_connect(rig.address, rig.id, rig.initiator, timeout=30)
        echo_through(sock, 2 * HEAVY_BYTES)
        assert native_relays(world, rig) == 2
        gateway.shutdown()  # returns only once the native loops have given the sockets back
        sock.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while sock.recv(65536):
                pass
        sock.close()
    finally:
        world.close()
        sim.close()
        gateway.shutdown()
    deadline = time.monotonic() + 10
    while (left := set(os.listdir("/proc/self/fd")) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in left if fd}


def test_only_a_real_ssl_object_of_this_interpreter_is_lent_to_c() -> None:
    loop = native.load()
    assert loop is not None
    context = ssl.create_default_context()
    tls = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example")
    assert loop.ssl_pointer(tls)

    class Impostor:
        _sslobj = socket.socket()  # not an _ssl._SSLSocket: no context to check against

    with Impostor._sslobj:
        assert loop.ssl_pointer(Impostor()) is None  # type: ignore[arg-type]
