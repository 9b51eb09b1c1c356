"""A TLS WAN connection carries one tunnel connection after another: each stream ends with
an end-of-stream frame both ways, and only a cleanly ended connection is used again."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from orbit_sim.streams import listener_ap
from orbit_sim.streams.placement import HEAVY_BYTES

from .apps import ListenerApp, echo_exactly, gsla_connect, wait_until
from .conftest import StreamWorld, TunnelRig


class Count:
    """How many WAN connections the listener access point accepted (TLS handshakes)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.handshakes = 0
        serve = listener_ap.ListenerAccessPoint.serve

        async def counted_serve(ap, wan_point, wan):  # type: ignore[no-untyped-def]
            self.handshakes += 1
            await serve(ap, wan_point, wan)

        monkeypatch.setattr(listener_ap.ListenerAccessPoint, "serve", counted_serve)


@pytest.fixture
def count(monkeypatch: pytest.MonkeyPatch) -> Iterator[Count]:
    yield Count(monkeypatch)


def exchange(rig: TunnelRig, payload: bytes) -> bytes:
    """Send `payload`, half-close, and read the echo up to the application's end of stream."""
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        got = bytearray()
        while chunk := sock.recv(1 << 16):
            got += chunk
        return bytes(got)


def handshakes_for(rig: TunnelRig, count: Count, payload: bytes, times: int) -> int:
    """Exchange `payload` `times` times, one connection after another, each echo exact;
    how many new WAN handshakes they took."""
    before = count.handshakes
    for _ in range(times):
        assert exchange(rig, payload) == payload
    return count.handshakes - before


def idle(world: StreamWorld, rig: TunnelRig) -> int:
    point = world.gateway.tunnel_point(rig.id)
    assert point is not None
    pool = world.gateway.initiator.pool
    return world.gateway.placement.near.thread.run(lambda: pool.idle_count(point.sides))


def test_one_tls_connection_carries_tunnel_connections_one_after_another(
    tls_streams: StreamWorld, count: Count
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    wait_until(lambda: idle(tls_streams, rig) >= 1)
    for index in range(20):
        payload = hashlib.sha256(str(index).encode()).digest() * (index + 1)
        assert exchange(rig, payload) == payload
        wait_until(lambda: idle(tls_streams, rig) >= 1)  # back in the pool
    # The spare opened with the tunnel and the one opened after the first connection.
    assert count.handshakes <= 2
    assert rig.app.accepted == 20


def test_a_plain_wan_leg_is_never_reused(plain_streams: StreamWorld, count: Count) -> None:
    rig = plain_streams.tunnel(ListenerApp())
    for _ in range(3):
        assert exchange(rig, b"plain") == b"plain"
    assert count.handshakes >= 3 and rig.app.accepted == 3


def test_a_reset_connection_is_not_reused_and_the_next_one_works(
    tls_streams: StreamWorld, count: Count
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    sock = gsla_connect(rig.address, rig.id, rig.initiator)
    sock.sendall(b"x")
    assert sock.recv(1) == b"x"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST
    assert rig.app.wait_closed()
    # The reset WAN connection was closed; the spare took over, then reuse.
    assert handshakes_for(rig, count, b"after", 3) <= 2


def test_a_stream_that_moved_to_the_second_loop_comes_back_for_the_next_one(
    tls_streams: StreamWorld, count: Count
) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=60) as sock:
        echo_exactly(sock, 2 * HEAVY_BYTES, end=True)
    # The spare opened while it ran, and its own connection, back from the second loop.
    wait_until(lambda: idle(tls_streams, rig) >= 2)
    # The moved stream's connection came back.
    assert handshakes_for(rig, count, b"small again", 3) == 0


def test_connections_at_once_then_one_after_another(tls_streams: StreamWorld, count: Count) -> None:
    rig = tls_streams.tunnel(ListenerApp())
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(exchange(rig, b"%d" % i)))
        for i in range(24)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(b"%d" % i for i in range(24))
    # Idle connections are kept up to the pool's bound, the rest closed.
    wait_until(lambda: idle(tls_streams, rig) >= 1)
    assert idle(tls_streams, rig) <= 16
    assert handshakes_for(rig, count, b"calm", 5) <= 1  # a spare may still be on its way


def test_the_listener_closing_first_still_ends_cleanly_and_reuses(
    tls_streams: StreamWorld, count: Count
) -> None:
    async def greet_and_close(loop, sock, app):  # type: ignore[no-untyped-def]
        await loop.sock_sendall(sock, b"bye")
        sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            while await loop.sock_recv(sock, 4096):
                pass

    rig = tls_streams.tunnel(ListenerApp(behaviour=greet_and_close))
    for _ in range(4):
        with gsla_connect(rig.address, rig.id, rig.initiator, timeout=30) as sock:
            got = bytearray()
            while chunk := sock.recv(16):
                got += chunk
            assert got == b"bye"
            sock.sendall(b"late words")  # the other direction is still open
            sock.shutdown(socket.SHUT_WR)
        # This client's end of stream comes last: the connection goes back beside the spare
        # a moment after the client has gone.
        wait_until(lambda: idle(tls_streams, rig) >= 2)
    assert rig.app.accepted == 4
    assert count.handshakes <= 2
