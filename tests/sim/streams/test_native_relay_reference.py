"""benchmarks/native_tls_relay.c, the TLS throughput ceiling bench_tunnel.py measures the
tunnel against, builds warning-free and carries bytes both ways intact through two
relays with mutually authenticated TLS between them (no timing checked)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .apps import ListenerApp, echo_through

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # appended: never shadows installed modules
import bench_tunnel  # noqa: E402 - beside its `report` module, in benchmarks/


@pytest.fixture
def relay_chain(tmp_path: Path) -> Iterator[tuple[ListenerApp, int]]:
    """An echo server behind two native relays: (the server, the chain's entry port)."""
    program = bench_tunnel.build_native_relay(tmp_path)
    if program is None:
        pytest.skip("no C compiler or no OpenSSL headers (scripts/install.sh installs them)")
    with ListenerApp() as server:
        entry, procs = bench_tunnel.native_chain(program, server.address[1], tmp_path)
        try:
            yield server, entry
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)


def test_bytes_cross_both_ways_intact_connection_after_connection(
    relay_chain: tuple[ListenerApp, int],
) -> None:
    server, entry = relay_chain
    for total in (256 << 10, 8 << 20):  # whole blocks of echo_through's
        with socket.create_connection(("127.0.0.1", entry), timeout=30) as sock:
            sent, received = echo_through(sock, total)
        assert received == sent
    # Each byte reached the server once (the chain's readiness probes carried none).
    assert server.received == (8 << 20) + (256 << 10)
