"""Tunnel figures in one run, each beside a reference measured in the same run.

    .venv/bin/python benchmarks/bench_tunnel.py [--gib 1] [--connections 1000]

- single-stream throughput through a tunnel (plain and TLS WAN leg) vs the same traffic
  through two `socat TCP-LISTEN:A,fork TCP:127.0.0.1:B` relays in series, and vs direct
  loopback; also vs the same socat relays told to use the tunnel's congestion control
  (Reno), so the ratio shows what the gateway gains beyond that one socket option;
- connection set-up (connect() -> first echoed byte, GSLA and TLS included) over N
  sequential connections: median and p99;
- N concurrent connections held open: the simulator process's RSS.

The simulator (with its gateway) runs in a child process so its RSS is its own; the
applications at both ends and socat run beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from report import Figure, record  # benchmarks/report.py, beside this script

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    Role,
    ServerHandshake,
    client_handshake,
    lookup_for,
    server_handshake,
)

CHUNK = 1 << 20


# -- the simulator child ----------------------------------------------------------------------


def serve_child(wan_tls: bool) -> None:
    """Child mode: a Simulator with a StreamGateway, driven by JSON lines on stdin."""
    from orbit_sim import Simulator
    from orbit_sim.streams import StreamGateway

    gateway = StreamGateway(wan_tls=wan_tls)
    sim = Simulator("real", gateway=gateway)
    gateway.bind(sim)
    world = sim.world
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "tunnel":
            with sim.lock:
                tunnel = sim.transfer.create_tunnel(
                    world.user_id, world.initiator_ap_id, world.listener_ap_id
                )
                secrets = [
                    sim.gcs.create_lan_secret(endpoint.id, world.user_id, tunnel.id, ap_id)
                    for endpoint, ap_id in zip(
                        world.endpoints, (world.initiator_ap_id, world.listener_ap_id), strict=True
                    )
                ]
                sim.transfer.set_listener_contact(tunnel, "127.0.0.1", command["port"])
            reply: dict[str, Any] = {
                "id": tunnel.id,
                "port": tunnel.initiator_port,
                "secrets": [[s.secret, s.id] for s in secrets],
            }
        else:  # rss
            with open("/proc/self/status") as status:
                rss = next(int(x.split()[1]) for x in status if x.startswith("VmRSS:"))
            reply = {"rss_kib": rss}
        print(json.dumps(reply), flush=True)
    sim.close()
    gateway.shutdown()


class Child:
    def __init__(self, wan_tls: bool) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "tls" if wan_tls else "plain"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- the applications at both ends ------------------------------------------------------------


class Server:
    """Listening application: GSLA server (when given a credential), then sink or echo."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.tunnel_id: str | None = None
        self.credential: Credential | None = None
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.credential is not None:
                handshake = ServerHandshake(lookup_for(str(self.tunnel_id), self.credential))
                if server_handshake(conn, handshake, 10) != 0:
                    return
            buf = bytearray(CHUNK)
            while n := conn.recv_into(buf):
                if self.mode == "echo":
                    conn.sendall(memoryview(buf)[:n])
            if self.mode == "sink":
                conn.sendall(b"k")

    def close(self) -> None:
        self.sock.close()


def connect(port: int, tunnel_id: str | None, credential: Credential | None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if credential is not None:
        client_handshake(
            sock,
            ClientHandshake(
                tunnel_id=str(tunnel_id),
                secret=credential.secret,
                secret_id=credential.secret_id,
                role=Role.APPLICATION,
            ),
        )
    return sock


def throughput(port: int, total: int, tunnel_id: str | None = None, cred: Any = None) -> float:
    """Bytes per second of one stream to a sink (time until the sink's acknowledgement)."""
    block = os.urandom(CHUNK)
    with connect(port, tunnel_id, cred) as sock:
        start = time.perf_counter()
        for _ in range(total // CHUNK):
            sock.sendall(block)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b"k"
        return total / (time.perf_counter() - start)


def tunnel_for(child: Child, server: Server) -> tuple[int, str, Credential]:
    reply = child.ask(op="tunnel", port=server.port)
    (init_secret, init_id), (listen_secret, listen_id) = reply["secrets"]
    server.tunnel_id = reply["id"]
    server.credential = Credential(listen_secret, uuid.UUID(listen_id))
    return reply["port"], reply["id"], Credential(init_secret, uuid.UUID(init_id))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# socat's generic socket option: IPPROTO_TCP (6), TCP_CONGESTION (13).
SOCAT_RENO = ",setsockopt-string=6:13:reno"


def socat_chain(target: int, options: str = "") -> tuple[int, list[subprocess.Popen[bytes]]]:
    """Two socat relays in series in front of `target`; returns the entry port.
    `options` go on both of each relay's sockets."""
    procs = []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    "socat",
                    f"TCP-LISTEN:{port},fork,reuseaddr{options}",
                    f"TCP:127.0.0.1:{target}{options}",
                ],
                stderr=subprocess.DEVNULL,
            )
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        target = port
    return target, procs


def best_of(runs: int, fn: Any) -> float:
    return max(fn() for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="bytes per throughput run")
    parser.add_argument("--runs", type=int, default=5, help="throughput rounds (best kept)")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--serve", choices=["tls", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_child(args.serve == "tls")
        return 0
    if shutil.which("socat") is None:
        print("socat is not installed", file=sys.stderr)
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    total = int(args.gib * (1 << 30)) // CHUNK * CHUNK

    sink = Server("sink")  # no GSLA: for direct loopback and socat
    entry, socats = socat_chain(sink.port)
    reno_entry, reno_socats = socat_chain(sink.port, SOCAT_RENO)
    children = {mode: Child(wan_tls=mode == "tls") for mode in ("plain", "tls")}
    sinks = {mode: Server("sink") for mode in children}  # each authenticates its tunnel
    best = dict.fromkeys(("direct", "socat", "socat_reno", "plain", "tls"), 0.0)
    try:
        ports = {mode: tunnel_for(child, sinks[mode]) for mode, child in children.items()}
        # Rounds interleave the four paths so a busy machine slows them alike.
        for _ in range(args.runs):
            best["direct"] = max(best["direct"], throughput(sink.port, total))
            best["socat"] = max(best["socat"], throughput(entry, total))
            best["socat_reno"] = max(best["socat_reno"], throughput(reno_entry, total))
            for mode, (port, tid, cred) in ports.items():
                best[mode] = max(best[mode], throughput(port, total, tid, cred))
    finally:
        for proc in (*socats, *reno_socats):
            proc.terminate()
        for child in children.values():
            child.close()
        for server in (sink, *sinks.values()):
            server.close()
    direct, socat = best["direct"], best["socat"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews ratios)")
    print(f"single stream, {total / (1 << 30):.2f} GiB, best of {args.runs} interleaved rounds:")
    print(f"  direct loopback        {direct / 1e6:8.0f} MB/s")
    print(f"  two socat relays       {socat / 1e6:8.0f} MB/s")
    print(f"  two socat relays, Reno {best['socat_reno'] / 1e6:8.0f} MB/s")
    for mode, target in (("plain", 1.5), ("tls", 0.75)):
        rate = best[mode]
        print(
            f"  tunnel, {mode:5} WAN      {rate / 1e6:8.0f} MB/s   x{rate / socat:.2f} socat"
            f" (target >= {target})   x{rate / direct:.2f} direct"
            f"   x{rate / best['socat_reno']:.2f} socat with Reno"
        )
        record(
            Figure(
                "tunnel",
                f"single stream, {mode} WAN / two socat relays ({rate / direct:.2f}x direct)",
                f"{rate / socat:.2f}x",
                f">= {target}x",
                rate / socat >= target,
            )
        )

    child = Child(wan_tls=True)
    echo = Server("echo")
    try:
        port, tid, cred = tunnel_for(child, echo)
        times = []
        for _ in range(args.connections):
            start = time.perf_counter()
            with connect(port, tid, cred) as sock:
                sock.sendall(b"x")
                assert sock.recv(1) == b"x"
                times.append(time.perf_counter() - start)
        times.sort()
        p99 = times[int(len(times) * 0.99) - 1]
        print(
            f"set-up over {len(times)} sequential connections (TLS WAN, GSLA both LAN legs):"
            f" median {statistics.median(times) * 1e3:.2f} ms (target <= 3),"
            f" p99 {p99 * 1e3:.2f} ms (target <= 15)"
        )
        median_ms = statistics.median(times) * 1e3
        record(
            Figure(
                "tunnel",
                "set-up, connect() to first echoed byte: median",
                f"{median_ms:.2f} ms",
                "<= 3 ms",
                median_ms <= 3,
            ),
            Figure(
                "tunnel",
                "set-up, connect() to first echoed byte: p99",
                f"{p99 * 1e3:.2f} ms",
                "<= 15 ms",
                p99 * 1e3 <= 15,
            ),
        )
        idle = child.ask(op="rss")["rss_kib"]
        held = []
        for _ in range(args.connections):
            sock = connect(port, tid, cred)
            sock.sendall(b"x")
            assert sock.recv(1) == b"x"
            held.append(sock)
        rss = child.ask(op="rss")["rss_kib"]
        print(
            f"{len(held)} concurrent connections held open: simulator RSS {rss / 1024:.0f} MiB"
            f" (target <= 300; {idle / 1024:.0f} MiB before they opened)"
        )
        record(
            Figure(
                "tunnel",
                f"simulator RSS, {len(held)} connections held open",
                f"{rss / 1024:.0f} MiB",
                "<= 300 MiB",
                rss / 1024 <= 300,
            )
        )
        for sock in held:
            sock.close()
    finally:
        child.close()
        echo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
