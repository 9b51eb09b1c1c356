"""The toxiproxy-style faults (latency jitter, slicer, limit_data, timeout, slow_close)
prove their effect on real bytes through the gateway. Timings are measured and recorded
(`record_property`), never asserted: what is asserted is what arrived, in how many reads,
and how the connection ended. benchmarks/bench_faults.py prints the timings."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import Callable

import pytest

from orbit_sim.faults.latency import Delay, Latency
from orbit_sim.faults.limit_data import LimitData
from orbit_sim.faults.reset_after import ResetAfter
from orbit_sim.faults.slicer import Slicer, Slices
from orbit_sim.faults.slow_close import SlowClose
from orbit_sim.faults.timeout import Timeout

from .apps import Behaviour, ListenerApp, gsla_connect, hold
from .conftest import StreamWorld, TunnelRig
from .test_faults import ended, fault, round_trip, wait_received


def recording(sizes: list[int]) -> Behaviour:
    """A listening application that notes the size of every read."""

    async def behaviour(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp):
        while data := await loop.sock_recv(sock, 65536):
            sizes.append(len(data))
            app.count(len(data))

    return behaviour


def says_bye_then_half_closes() -> Behaviour:
    async def behaviour(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp):
        await loop.sock_sendall(sock, b"bye")
        sock.shutdown(socket.SHUT_WR)
        while data := await loop.sock_recv(sock, 65536):
            app.count(len(data))

    return behaviour


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := sock.recv(size - len(data))):
        data += chunk
    return data


def test_jitter_spreads_delays_around_the_latency_and_keeps_order() -> None:
    random.seed(14)
    delay = Delay(0.050, jitter=0.030)
    out = delay.feed([(float(t), b"x") for t in range(200)])
    extra = [ready - t for t, (ready, _) in enumerate(out)]
    assert min(extra) >= 0.020 - 1e-9 and max(extra) <= 0.080 + 1e-9
    assert max(extra) - min(extra) > 0.040  # spread, not a constant delay
    readies = [ready for ready, _ in out]
    assert readies == sorted(readies)
    assert Latency(ms=50, jitter_ms=30).effect() == Delay(0.05, 0.03)


def test_jitter_on_real_round_trips(
    tls_streams: StreamWorld, record_property: Callable[[str, object], None]
) -> None:
    rig = tls_streams.tunnel()
    with (
        fault(tls_streams, Latency(leg=2, ms=20, jitter_ms=15)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        rtts = [round_trip(sock) for _ in range(8)]  # round_trip asserts the echo
    record_property("rtt_ms", [round(r * 1000, 1) for r in rtts])


def test_slicer_pieces_are_bounded_and_spaced() -> None:
    random.seed(14)
    out = Slices(average=100, variation=20, gap=0.002).feed([(1.0, bytes(5000))])
    assert b"".join(data for _, data in out) == bytes(5000)
    assert all(80 <= len(data) <= 120 for _, data in out[:-1])
    assert [ready for ready, _ in out] == [1.0 + 0.002 * i for i in range(len(out))]


def one_write_reads(
    world: StreamWorld, rig: TunnelRig, sizes: list[int], data: bytes, upstream: bool
) -> int:
    """Send `data` in one write; how many reads the far application needed."""
    sizes.clear()
    before = rig.app.received
    with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        sock.sendall(data)
        if upstream:
            wait_received(rig.app, before + len(data))
            assert rig.app.received - before == len(data)
        else:
            got = b""
            while len(got) < len(data):
                chunk = sock.recv(65536)
                assert chunk
                sizes.append(len(chunk))
                got += chunk
            assert got == data
    return len(sizes)


@pytest.mark.parametrize(("leg", "direction"), [(1, "upstream"), (3, "downstream")])
def test_slicer_cuts_one_write_into_many_reads(
    tls_streams: StreamWorld, leg: int, direction: str
) -> None:
    sizes: list[int] = []
    upstream = direction == "upstream"
    rig = tls_streams.tunnel(ListenerApp(behaviour=recording(sizes)) if upstream else None)
    data = random.randbytes(2000)
    slicer = Slicer(leg=leg, direction=direction, average_size=500, delay_us=40_000)
    with fault(tls_streams, slicer):
        # Slices 40 ms apart arrive as separate reads unless the reader stalls for the
        # whole 120 ms; a busy machine gets three tries.
        reads = [one_write_reads(tls_streams, rig, sizes, data, upstream) for _ in range(3)]
    assert max(reads) > 1, f"one write arrived in one read each time: not sliced ({reads})"


@pytest.mark.parametrize(
    ("kind", "errors"), [(LimitData, []), (ResetAfter, ["ConnectionResetError"])]
)
def test_limit_data_ends_cleanly_where_reset_after_resets(
    streams: StreamWorld, kind: type[LimitData | ResetAfter], errors: list[str]
) -> None:
    rig = streams.tunnel(ListenerApp(behaviour=hold))
    with (
        fault(streams, kind(leg=3, direction="upstream", bytes=100_000)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(bytes(1 << 20))
        assert ended(sock)
    assert rig.app.wait_closed()
    assert rig.app.received == 100_000
    assert rig.app.errors == errors


def test_limit_data_downstream_on_leg_1(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel()
    received = 0
    with (
        fault(tls_streams, LimitData(leg=1, direction="downstream", bytes=70_000)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        sock.sendall(bytes(70_000))  # echoed; nothing of ours is left unread at the end
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += len(chunk)
    assert received == 70_000


@pytest.mark.parametrize("leg", [1, 2, 3])
def test_timeout_swallows_bytes_then_closes(tls_streams: StreamWorld, leg: int) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    with (
        fault(tls_streams, Timeout(leg=leg, direction="upstream", ms=200)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(b"swallowed")
        assert ended(sock)
    assert rig.app.wait_closed()
    assert rig.app.received == 0


def test_timeout_closes_an_idle_connection(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=hold))
    with (
        fault(tls_streams, Timeout(leg=1, direction="downstream", ms=100)),
        gsla_connect(rig.address, rig.id, rig.initiator) as sock,
    ):
        assert ended(sock)  # nothing was sent: the deadline alone ends it
    assert rig.app.wait_closed()


@pytest.mark.parametrize(("leg", "direction"), [(3, "downstream"), (1, "downstream")])
def test_slow_close_holds_the_end_of_stream_not_the_bytes(
    tls_streams: StreamWorld,
    leg: int,
    direction: str,
    record_property: Callable[[str, object], None],
) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=says_bye_then_half_closes()))
    held = SlowClose(leg=leg, direction=direction, ms=60_000)
    with fault(tls_streams, held), gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        assert recv_exactly(sock, 3) == b"bye"  # the bytes are not held
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):  # the end of stream is
            sock.recv(1)
    short = SlowClose(leg=leg, direction=direction, ms=150)
    with fault(tls_streams, short), gsla_connect(rig.address, rig.id, rig.initiator) as sock:
        assert recv_exactly(sock, 3) == b"bye"
        start = time.monotonic()
        sock.settimeout(10)
        assert sock.recv(1) == b""  # and then it arrives: a FIN, not a reset
        record_property("fin_after_ms", round((time.monotonic() - start) * 1000, 1))


def test_probability_is_rolled_per_connection(tls_streams: StreamWorld) -> None:
    """As toxiproxy's toxicity: some connections get the fault, the others pass untouched."""
    rig = tls_streams.tunnel()
    random.seed(14)
    cut = 0
    with fault(tls_streams, LimitData(leg=1, direction="downstream", bytes=1, probability=0.5)):
        for _ in range(16):
            with gsla_connect(rig.address, rig.id, rig.initiator) as sock:
                sock.sendall(b"four")
                sock.shutdown(socket.SHUT_WR)
                echoed = recv_exactly(sock, 4)
            assert echoed in (b"f", b"four")
            cut += echoed == b"f"
    assert 0 < cut < 16
