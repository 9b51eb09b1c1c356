"""Each toxiproxy-style fault's effect on real bytes through the gateway, measured beside
the same path without the fault in the same run, and the cost of the fault model to
connection set-up.

    .venv/bin/python benchmarks/bench_faults.py [--rounds 40] [--connections 500]

The gateway, the listening application and the initiating sockets share this process
(the figures are tens of milliseconds, far above what that costs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from report import Figure, record  # benchmarks/report.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.sim.streams.apps import ListenerApp, digest, gsla_connect, hold  # noqa: E402
from tests.sim.streams.conftest import StreamWorld, TunnelRig, _stream_world  # noqa: E402


@contextlib.contextmanager
def world() -> Iterator[StreamWorld]:
    worlds = _stream_world(wan_tls=True)
    try:
        yield next(worlds)
    finally:
        with contextlib.suppress(StopIteration):
            next(worlds)


@contextlib.contextmanager
def faulted(w: StreamWorld, *specs: str) -> Iterator[None]:
    faults = [w.sim.add_fault(spec) for spec in specs]
    w.gateway.apply_faults()
    try:
        yield
    finally:
        for fault in faults:
            w.sim.remove_fault(fault.id)
        w.gateway.apply_faults()


def connect(rig: TunnelRig) -> socket.socket:
    return gsla_connect(rig.address, rig.id, rig.initiator, timeout=30)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def spread(values: list[float]) -> tuple[float, float]:
    """Median and p90 - p10."""
    q = statistics.quantiles(values, n=10)
    return statistics.median(values), q[-1] - q[0]


def round_trips(rig: TunnelRig, rounds: int) -> list[float]:
    with connect(rig) as sock:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
            times.append(time.perf_counter() - start)
    return times


def jitter(w: StreamWorld, rounds: int) -> None:
    rig = w.tunnel()
    rows = {}
    for label, specs in (
        ("no fault", ()),
        ("latency 20 ms", ("latency:leg=2,ms=20",)),
        ("latency 20 ms, jitter 10 ms", ("latency:leg=2,ms=20,jitter_ms=10",)),
    ):
        with faulted(w, *specs):
            rows[label] = spread(round_trips(rig, rounds))
        median, width = rows[label]
        print(f"  {label:30} RTT median {ms(median):>9}   p90-p10 {ms(width):>9}")
    median, width = rows["latency 20 ms, jitter 10 ms"]
    record(
        Figure(
            "faults",
            "latency 20 ms ± 10 ms jitter on leg 2 (both ways): round trip p90-p10 "
            f"(no jitter {ms(rows['latency 20 ms'][1])}; RTT median {ms(median)})",
            ms(width),
        )
    )


def slicer(w: StreamWorld) -> None:
    sizes: list[int] = []

    async def note_reads(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: Any) -> None:
        while data := await loop.sock_recv(sock, 1 << 20):
            sizes.append(len(data))
            app.count(len(data))

    rig = w.tunnel(ListenerApp(behaviour=note_reads))
    data = os.urandom(64 << 10)
    reads = {}
    for label, specs in (
        ("no fault", ()),
        (
            "slicer 1024 ± 256 B",
            ("slicer:leg=3,direction=upstream,average_size=1024,size_variation=256,delay_us=200",),
        ),
    ):
        sizes.clear()
        before = rig.app.received
        with faulted(w, *specs), connect(rig) as sock:
            sock.sendall(data)
            deadline = time.monotonic() + 30
            while rig.app.received < before + len(data) and time.monotonic() < deadline:
                time.sleep(0.005)
        reads[label] = (len(sizes), statistics.median(sizes))
        print(
            f"  {label:30} one 64 KiB write -> {len(sizes)} reads, median {reads[label][1]:.0f} B"
        )
    count, median = reads["slicer 1024 ± 256 B"]
    record(
        Figure(
            "faults",
            "slicer 1024 ± 256 B, 200 µs apart: reads for one 64 KiB write "
            f"(no fault: {reads['no fault'][0]}; median read {median:.0f} B)",
            str(count),
        )
    )


def bandwidth(w: StreamWorld) -> None:
    rig = w.tunnel(ListenerApp(behaviour=digest))
    cap = 2048 * 1024
    data = os.urandom(3 << 20)
    spec = f"bandwidth:leg=2,direction=upstream,kib_per_s={cap // 1024}"
    with faulted(w, spec), connect(rig) as sock:
        start = time.perf_counter()
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        assert len(sock.recv(64)) == 32  # the digest comes once everything arrived
        rate = len(data) / (time.perf_counter() - start)
    print(f"  bandwidth 2048 KiB/s           3 MiB upstream at {rate / 1024:.0f} KiB/s")
    record(
        Figure(
            "faults",
            "bandwidth 2048 KiB/s on leg 2: rate of a 3 MiB upstream transfer / the cap",
            f"{rate / cap:.2f}x",
            "0.8-1.2x",
            0.8 <= rate / cap <= 1.2,
        )
    )


def limit_data(w: StreamWorld) -> None:
    for spec, kind in (("limit_data", "limit_data"), ("reset_after", "reset_after")):
        rig = w.tunnel(ListenerApp(behaviour=hold))
        with faulted(w, f"{spec}:leg=3,direction=upstream,bytes=100000"), connect(rig) as sock:
            with contextlib.suppress(OSError):
                sock.sendall(bytes(1 << 20))
            ended_after(sock, 0.0)
        rig.app.wait_closed(10)
        ending = ", ".join(rig.app.errors) or "clean end of stream"
        print(f"  {kind:30} listener got {rig.app.received} of 1 MiB, then: {ending}")
        if kind == "limit_data":
            record(
                Figure(
                    "faults",
                    f"limit_data 100000 B on leg 3: bytes the listener got, then {ending} "
                    f"(reset_after ends with ConnectionResetError)",
                    str(rig.app.received),
                    "100000",
                    rig.app.received == 100_000 and not rig.app.errors,
                )
            )


def ended_after(sock: socket.socket, start: float) -> float:
    sock.settimeout(30)
    with contextlib.suppress(ConnectionResetError):
        while sock.recv(65536):
            pass
    return time.perf_counter() - start


def timeout(w: StreamWorld, rounds: int) -> None:
    rig = w.tunnel(ListenerApp(behaviour=hold))
    times = []
    with faulted(w, "timeout:leg=2,direction=upstream,ms=200"):
        for _ in range(max(3, rounds // 8)):
            with connect(rig) as sock:
                start = time.perf_counter()
                sock.sendall(b"swallowed")
                times.append(ended_after(sock, start))
    median = statistics.median(times)
    print(f"  timeout 200 ms                 connection closed after {ms(median)} (median)")
    record(
        Figure(
            "faults",
            f"timeout 200 ms on leg 2: connection closed after (median of {len(times)}; "
            f"listener got {rig.app.received} B)",
            ms(median),
            ">= 200 ms",
            median >= 0.2 and rig.app.received == 0,
        )
    )


def slow_close(w: StreamWorld, rounds: int) -> None:
    async def bye(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: Any) -> None:
        await loop.sock_sendall(sock, b"bye")
        sock.shutdown(socket.SHUT_WR)
        while await loop.sock_recv(sock, 4096):
            pass

    rig = w.tunnel(ListenerApp(behaviour=bye))
    results = {}
    for label, specs in (
        ("no fault", ()),
        ("slow_close 150 ms", ("slow_close:leg=3,direction=downstream,ms=150",)),
    ):
        times = []
        with faulted(w, *specs):
            for _ in range(max(3, rounds // 8)):
                with connect(rig) as sock:
                    assert sock.recv(3) == b"bye"
                    times.append(ended_after(sock, time.perf_counter()))
        results[label] = statistics.median(times)
        print(f"  {label:30} end of stream after the last byte: {ms(results[label])}")
    record(
        Figure(
            "faults",
            "slow_close 150 ms on leg 3: end of stream after the last byte "
            f"(no fault: {ms(results['no fault'])})",
            ms(results["slow_close 150 ms"]),
            ">= 150 ms",
            results["slow_close 150 ms"] >= 0.15,
        )
    )


def setup_cost(w: StreamWorld, connections: int) -> None:
    """Set-up with no fault, and with ten faults that the fault model consults and that
    do not apply (another tunnel): what asking the faults costs each connection. Blocks
    of the two alternate, so a busy machine slows both alike. Absolute set-up figures
    (simulator in a process of its own) are bench_tunnel.py's."""
    rig = w.tunnel()
    other = "00000000-0000-0000-0000-000000000000"
    kinds = ("latency", "slicer", "limit_data", "timeout", "slow_close", "blackhole")
    kinds += ("stall_handshake", "corrupt_handshake", "refuse")
    specs = [f"{k}:tunnel={other}" for k in kinds] + ["close_listener:access_point=nowhere"]
    rows: dict[str, tuple[str, ...]] = {
        "no fault": (),
        "10 faults, none for this tunnel": tuple(specs),
    }
    times: dict[str, list[float]] = {label: [] for label in rows}
    round_trips(rig, 50)  # warm-up: TLS session, code paths
    block = 50
    for _ in range(max(1, connections // block)):
        for label, active in rows.items():
            with faulted(w, *active):
                for _ in range(block):
                    start = time.perf_counter()
                    with connect(rig) as sock:
                        sock.sendall(b"x")
                        assert sock.recv(1) == b"x"
                    times[label].append(time.perf_counter() - start)
    figures = {}
    for label, values in times.items():
        values.sort()
        figures[label] = (statistics.median(values), values[int(len(values) * 0.99) - 1])
        median, p99 = figures[label]
        print(f"  {label:32} set-up median {ms(median):>8}   p99 {ms(p99):>8}")
    with_faults, base = figures["10 faults, none for this tunnel"], figures["no fault"]
    cost = {n: fault_model_cost(w, rig.id, specs[:n]) for n in (0, len(specs))}
    print(
        f"  asking the fault model, per connection (3 handshakes, 4 pumps): "
        f"{cost[0] * 1e6:.1f} µs with no fault, {cost[len(specs)] * 1e6:.1f} µs with 10"
    )
    record(
        Figure(
            "faults",
            "asking the fault model per connection with 10 faults active (no fault: "
            f"{cost[0] * 1e6:.1f} µs; set-up median {ms(with_faults[0])} vs {ms(base[0])})",
            f"{cost[len(specs)] * 1e6:.1f} µs",
        )
    )


def fault_model_cost(w: StreamWorld, tunnel_id: str, specs: list[str], n: int = 5000) -> float:
    """CPU seconds of what the access points ask the faults for one connection."""
    from orbit_sim.streams.faults import DOWNSTREAM, UPSTREAM, ConnectionFaults
    from orbit_sim.streams.placement import INITIATOR_LEGS, LISTENER_LEGS

    with faulted(w, *specs):
        board = w.gateway.board
        start = time.process_time()
        for _ in range(n):
            faults = ConnectionFaults(board, tunnel_id)
            for leg in (1, 2, 3):
                faults.handshake(leg)
            for up, down in (INITIATOR_LEGS, LISTENER_LEGS):
                faults.chain_source(up, UPSTREAM)()
                faults.chain_source(down, DOWNSTREAM)()
        return (time.process_time() - start) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="round trips per latency row")
    parser.add_argument("--connections", type=int, default=500, help="set-ups per row")
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews figures)")
    with world() as w:
        print("latency jitter (leg 2, both directions):")
        jitter(w, args.rounds)
        print("bandwidth (leg 2, upstream):")
        bandwidth(w)
        print("slicer (leg 3, upstream):")
        slicer(w)
        print("limit_data vs reset_after (leg 3, upstream, 100000 B):")
        limit_data(w)
        print("timeout (leg 2, upstream):")
        timeout(w, args.rounds)
        print("slow_close (leg 3, downstream):")
        slow_close(w, args.rounds)
        print("connection set-up and the fault model (TLS WAN, GSLA both LAN legs):")
        setup_cost(w, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
