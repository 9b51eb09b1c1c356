"""Accept latency of an authenticated connection queued behind silent peers.

    .venv/bin/python benchmarks/bench_accept.py [--timeout-ms MS] [--quick]

A tunnel listener (benchmarks/accept_listener.py under LD_PRELOAD, blocking accept() or an
edge-triggered epoll loop) has N = 1, 10, 100 silent peers in its accept queue (TCP
connected, no byte sent) when an access point connects and authenticates (GSLA role 2).
The figure is the time from that connect() until the application has accepted the
connection (its first byte arrives), next to the same with no silent peers, measured in
the same run.

The accept-side handshake runs inside accept(), one queued connection at a time, and gives
a silent peer up to GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS before dropping it: the latency is
bounded by N x that timeout (plus the authenticated handshake itself). This run uses a
short timeout (--timeout-ms, default 100) so N = 100 takes seconds; with the default
10,000 ms the same queue holds a connection up to 1,000 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench_intercept import load_build  # beside this script
from report import Figure, record

from orbit_globus.lan import ClientHandshake, HandshakeError, Role
from orbit_globus.lan.sockets import client_handshake

HERE = Path(__file__).resolve().parent
LISTENER = HERE / "accept_listener.py"
MODES = ("blocking", "epoll")


class AcceptBench:
    def __init__(self, work: Path, library: Path, timeout_ms: int) -> None:
        self.tunnel_id, self.secret_id, self.secret = uuid.uuid4(), uuid.uuid4(), "bench-accept"
        self.timeout_ms = timeout_ms
        self.library = library
        self.conf_dir = work / "streams"
        self.conf_dir.mkdir(mode=0o700)
        conf = self.conf_dir / f"{self.tunnel_id}.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"role=listener\nlankey={self.secret}\nlankey_id={self.secret_id}\n")

    @contextlib.contextmanager
    def listener(self, mode: str) -> Iterator[int]:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLOBUS_STREAMS_")}
        env.update(
            LD_PRELOAD=str(self.library),
            GLOBUS_STREAMS_DIR=str(self.conf_dir),
            GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS=str(self.timeout_ms),
            **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{port}": str(self.tunnel_id)},
        )
        command = [sys.executable, str(LISTENER), str(port), mode]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "listening"
            yield port
        finally:
            proc.kill()
            proc.wait(10)

    def authenticated_latency(self, port: int, silent: int) -> float | None:
        """Seconds from connect() to the application's byte; None when it never came."""
        limit = silent * self.timeout_ms / 1000 * 3 + 10
        peers = [socket.create_connection(("127.0.0.1", port)) for _ in range(silent)]
        try:
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
                handshake = ClientHandshake(
                    tunnel_id=self.tunnel_id,
                    secret=self.secret,
                    secret_id=self.secret_id,
                    role=Role.ACCESS_POINT,
                )
                try:
                    client_handshake(sock, handshake, limit)
                    sock.settimeout(limit)
                    if sock.recv(1) != b"x":
                        return None
                except (OSError, HandshakeError):
                    return None
                return time.perf_counter() - started
        finally:
            for peer in peers:
                peer.close()


def measure(bench: AcceptBench, mode: str, silent: int, rounds: int) -> list[float | None]:
    with bench.listener(mode) as port:
        return [bench.authenticated_latency(port, silent) for _ in range(rounds)]


def show(value: float | None) -> str:
    return "stalled" if value is None else f"{value * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout-ms", type=int, default=100, help="accept-side handshake limit")
    parser.add_argument("--quick", action="store_true", help="N = 1 and 10 only, fewer rounds")
    args = parser.parse_args(argv)
    queue_sizes = (1, 10) if args.quick else (1, 10, 100)
    with tempfile.TemporaryDirectory() as tmp:
        library = load_build().build("host", Path(tmp) / "lib")[0]
        bench = AcceptBench(Path(tmp), library, args.timeout_ms)
        print(f"accept-side handshake timeout: {args.timeout_ms} ms (bound: N x timeout)")
        print(f"{'listener':9} {'silent N':>8} {'median':>11} {'no silent':>11} {'bound':>10}")
        for mode in MODES:
            reference = measure(bench, mode, 0, 5 if args.quick else 15)
            ref = statistics.median(r for r in reference if r is not None)
            for silent in queue_sizes:
                runs = measure(bench, mode, silent, max(1, (4 if args.quick else 10) // silent))
                done = [r for r in runs if r is not None]
                value = statistics.median(done) if len(done) == len(runs) else None
                bound = silent * args.timeout_ms / 1000
                print(f"{mode:9} {silent:8} {show(value):>11} {show(ref):>11} {show(bound):>10}")
                met = value is not None and value <= bound + ref + 0.5
                record(
                    Figure(
                        "intercept",
                        f"accept latency, {mode} listener, {silent} silent peers queued ahead "
                        f"(none: {show(ref)}; handshake timeout {args.timeout_ms} ms)",
                        show(value),
                        f"<= {silent} x timeout",
                        met,
                    )
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
