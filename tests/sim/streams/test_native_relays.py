"""The native relay loop: a heavy TLS stream's two relays run in C, and come back to
Python for everything it does not do itself (faults, closes, ends of stream, shutdown)
without losing or repeating a byte."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import socket
import ssl
import struct
import uuid

import pytest

from orbit_sim.faults.latency import Latency
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.streams import native
from orbit_sim.streams.native_relays import NativeRelay
from orbit_sim.streams.placement import HEAVY_BYTES, TunnelPoint
from orbit_sim.streams.tls import access_point_hostname

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

pytestmark = pytest.mark.skipif(
    native.load() is None, reason="native relay loop not built (sim/streams/native/build.py)"
)


def native_relays(world: StreamWorld, rig: TunnelRig) -> int:
    """How many of the tunnel's relays the native loop runs now."""
    point = world.gateway.tunnel_point(rig.id)
    assert isinstance(point, TunnelPoint)
    near = world.gateway.placement.near.thread
    return near.run(lambda: sum(isinstance(r, NativeRelay) for r in point.relays))


def test_a_heavy_stream_runs_natively_both_ways_and_loses_no_byte(
    tls_streams: StreamWorld,
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_exactly(sock, 8 * HEAVY_BYTES)
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
        echo_exactly(sock, 2 * HEAVY_BYTES)
        assert native_relays(tls_streams, rig) == 2
        tls_streams.sim.faults.add(latency)
        tls_streams.gateway.apply_faults()
        wait_until(lambda: native_relays(tls_streams, rig) == 0, "relays back in Python")
        echo_exactly(sock, 2 * HEAVY_BYTES)
        assert native_relays(tls_streams, rig) == 0  # the fault's pumps keep them
        tls_streams.sim.faults.remove(latency.id)
        tls_streams.gateway.apply_faults()
        echo_exactly(sock, 2 * HEAVY_BYTES)
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
            echo_exactly(sock, 2 * HEAVY_BYTES, end=True)
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
    before = open_fds()
    with own_stream_world(wan_tls=True) as world:
        rig = world.tunnel(ListenerApp())
        with gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock:
            echo_through(sock, 2 * HEAVY_BYTES)
            assert native_relays(world, rig) == 2
            world.gateway.shutdown()  # returns once the native loops gave the sockets back
            sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                while sock.recv(65536):
                    pass
    assert_closed_since(before)


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


class PeerAccessPoint:
    """The initiator end of a WAN connection, written by hand: TLS with the initiator
    access point's certificate, the tunnel preamble, then frames cut however a test likes
    (each `write` is one TLS record)."""

    def __init__(self, world: StreamWorld, rig: TunnelRig) -> None:
        tls = world.gateway.tls
        assert tls is not None
        listener_ap = rig.tunnel.listener_ap_id
        port = world.gateway.wan_point(listener_ap).listener.port
        context = tls.client_context(rig.tunnel.initiator_ap_id)
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock = context.wrap_socket(raw, server_hostname=access_point_hostname(listener_ap))
        self._inbound = bytearray()

    def write_in_pieces(self, data: bytes, cuts: list[int]) -> None:
        """`data` as records of the sizes in `cuts`, cycled."""
        at = 0
        for size in itertools.cycle(cuts):
            if at >= len(data):
                return
            self.sock.sendall(data[at : at + size])
            at += size

    def read_stream(self, size: int) -> bytes:
        """`size` bytes of the echoed stream, frame headers taken out."""
        out = bytearray()
        while len(out) < size:
            while len(self._inbound) < 4:
                self._inbound += self.sock.recv(1 << 20)
            (length,) = struct.unpack("!I", self._inbound[:4])
            assert length, "end of stream before the echo was complete"
            while len(self._inbound) < 4 + length:
                self._inbound += self.sock.recv(1 << 20)
            out += self._inbound[4 : 4 + length]
            del self._inbound[: 4 + length]
        return bytes(out)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def frames(data: bytes, size: int) -> bytes:
    return b"".join(
        struct.pack("!I", len(data[at : at + size])) + data[at : at + size]
        for at in range(0, len(data), size)
    )


def test_frames_cut_anywhere_across_records_reach_the_application_intact(
    tls_streams: StreamWorld,
) -> None:
    """Headers split over records, frames of one byte, records holding several frames:
    the native loop's frame parser sees them all once the relay is heavy."""
    rig = tls_streams.tunnel(ListenerApp())
    peer = PeerAccessPoint(tls_streams, rig)
    with peer.sock:
        peer.sock.sendall(struct.pack("!I", 16) + uuid.UUID(rig.id).bytes)  # the preamble
        bulk = os.urandom(2 * HEAVY_BYTES)
        peer.sock.sendall(frames(bulk, 512 * 1024))
        assert sha(peer.read_stream(len(bulk))) == sha(bulk)
        wait_until(lambda: native_relays(tls_streams, rig) == 1, "the listener relay native")
        for frame_size, cuts in [(1, [1]), (7, [2, 3, 1]), (4099, [1, 5, 16384]), (70000, [3])]:
            data = os.urandom(64 * 1024)
            peer.write_in_pieces(frames(data, frame_size), cuts)
            assert peer.read_stream(len(data)) == data
        assert native_relays(tls_streams, rig) == 1
