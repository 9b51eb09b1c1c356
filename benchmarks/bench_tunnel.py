"""Tunnel figures in one run, each beside a reference measured in the same run.

    .venv/bin/python benchmarks/bench_tunnel.py [--seconds 3] [--runs 5] [--connections 1000]

- single-stream throughput (iperf3, one TCP stream) through a tunnel with a TLS WAN leg vs
  two stunnel relays with mutually authenticated TLS between them (the same job done by a
  well-known C program), through a tunnel with a plain WAN leg vs two `socat
  TCP-LISTEN:A,fork TCP:127.0.0.1:B` relays in series (and vs the same socat relays told
  to use the tunnel's congestion control, Reno, so the ratio shows what the gateway gains
  beyond that one socket option), and direct loopback as the ceiling. A pair of native C
  relays doing the tunnel's TLS leg (native_tls_relay.c: same protocol, cipher and
  batching, no framing) is a second C reference: the tunnel's own bulk TLS relays are C
  too (sim/streams/native/), so this compares the two designs. The throughput
  tunnels run without LAN authentication (iperf3 speaks no GSLA); it costs nothing once a
  connection is set up;
- connection set-up (connect() -> first echoed byte, GSLA and TLS included) over N
  sequential connections: median and p99, beside two stunnel relays with mutually
  authenticated TLS between them and the echo server reached directly, in alternated
  rounds (the references carry one GSLA exchange end to end, the tunnel two);
- N concurrent connections held open: the simulator process's RSS.

The simulator (with its gateway) runs in a child process so its RSS is its own; the
applications at both ends, socat and stunnel run beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import trustme
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

CHUNK = 64 * 1024


# -- the simulator child ----------------------------------------------------------------------


def serve_child(wan_tls: bool, lan_auth: bool) -> None:
    """Child mode: a Simulator with a StreamGateway, driven by JSON lines on stdin."""
    from orbit_sim import Simulator
    from orbit_sim.streams import StreamGateway

    gateway = StreamGateway(wan_tls=wan_tls)
    sim = Simulator("real", gateway=gateway, lan_auth=lan_auth)
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
    def __init__(self, wan_tls: bool, lan_auth: bool = True) -> None:
        command = [sys.executable, __file__, "--serve", "tls" if wan_tls else "plain"]
        self.proc = subprocess.Popen(
            command + ([] if lan_auth else ["--no-lan-auth"]),
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


class EchoServer:
    """Listening application: GSLA server (once given a credential), then echo."""

    def __init__(self) -> None:
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
        # A relay's readiness probe connects and closes at once: not an error here.
        with conn, contextlib.suppress(ConnectionError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.credential is not None:
                handshake = ServerHandshake(lookup_for(str(self.tunnel_id), self.credential))
                if server_handshake(conn, handshake, 10) != 0:
                    return
            buf = bytearray(CHUNK)
            while n := conn.recv_into(buf):
                conn.sendall(memoryview(buf)[:n])

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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes (all their threads) so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def iperf3(port: int, seconds: float) -> tuple[float, int]:
    """(bytes per second, bytes) received by iperf3's server from one TCP stream sent to
    `port`. A failed run is reported on stderr and tried again (twice at most)."""
    failures = 0
    while True:
        proc = subprocess.run(
            ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
        report = json.loads(proc.stdout)
        error = report.get("error")
        if not error:
            received = report["end"]["sum_received"]
            return received["bits_per_second"] / 8, int(received["bytes"])
        # The server takes a new test once the last one's connections closed through the
        # relays; until then it answers "busy".
        if "busy" not in error:
            failures += 1
            print(f"iperf3 through port {port}: {error}", file=sys.stderr)
            if failures > 2:
                raise RuntimeError(f"iperf3 through port {port}: {error}")
        time.sleep(0.25)


def wait_listening(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def tunnel_for(child: Child, server_port: int, server: EchoServer | None = None) -> Any:
    """A tunnel to `server_port`: (initiator port, tunnel id, initiator credential); the
    listening `server` learns its own credential."""
    reply = child.ask(op="tunnel", port=server_port)
    (init_secret, init_id), (listen_secret, listen_id) = reply["secrets"]
    if server is not None:
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


RELAY_PEMS = ("ca.pem", "server.pem", "client.pem")
RELAY_SERVER_NAME = "server.relay.invalid"


def relay_certificates(workdir: Path) -> None:
    """ca.pem, and server.pem and client.pem (key and chain) from one trustme CA, for the
    TLS reference relays; issued once per folder."""
    if (workdir / "ca.pem").exists():
        return
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    for name in ("server", "client"):
        leaf = ca.issue_cert(f"{name}.relay.invalid")
        leaf.private_key_and_cert_chain_pem.write_to_path(str(workdir / f"{name}.pem"))


def stunnel_chain(target: int, workdir: Path) -> tuple[int, list[subprocess.Popen[bytes]]]:
    """Two stunnel relays in front of `target` with mutually authenticated TLS between
    them (stunnel's default protocol and ciphers); returns the entry port."""
    relay_certificates(workdir)
    tls_port, entry = free_port(), free_port()
    common = f"foreground = yes\npid =\nCAfile = {workdir}/ca.pem\nverifyChain = yes\n"
    confs = {
        "server": f"[relay]\naccept = 127.0.0.1:{tls_port}\nconnect = 127.0.0.1:{target}\n"
        f"cert = {workdir}/server.pem\n",
        "client": f"[relay]\nclient = yes\naccept = 127.0.0.1:{entry}\n"
        f"connect = 127.0.0.1:{tls_port}\ncert = {workdir}/client.pem\n"
        f"checkHost = {RELAY_SERVER_NAME}\n",
    }
    procs = []
    for name, conf in confs.items():
        path = workdir / f"{name}.conf"
        path.write_text(common + conf)
        procs.append(
            subprocess.Popen(
                ["stunnel", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    wait_listening(tls_port)
    wait_listening(entry)
    return entry, procs


NATIVE_RELAY_SOURCE = Path(__file__).with_name("native_tls_relay.c")


def build_native_relay(workdir: Path) -> Path | None:
    """native_tls_relay.c built with the system's C compiler and OpenSSL; None (and why,
    on stderr) when either is missing."""
    compiler = shutil.which("clang") or shutil.which("cc")
    if compiler is None or not Path("/usr/include/openssl/ssl.h").exists():
        print("native TLS relay left out: no C compiler or no OpenSSL headers", file=sys.stderr)
        return None
    program = workdir / "native_tls_relay"
    flags = ["-O2", "-Wall", "-Wextra", "-Werror", "-pthread"]
    subprocess.run(
        [compiler, *flags, "-o", str(program), str(NATIVE_RELAY_SOURCE), "-lssl", "-lcrypto"],
        check=True,
    )
    return program


def native_chain(
    program: Path, target: int, workdir: Path
) -> tuple[int, list[subprocess.Popen[bytes]]]:
    """Two native TLS relays in front of `target`, TLS between them as on the tunnel's WAN
    leg; returns the entry port."""
    relay_certificates(workdir)
    tls_port, entry = free_port(), free_port()
    ca, server_pem, client_pem = (str(workdir / name) for name in RELAY_PEMS)
    server = [program, "server", str(tls_port), str(target), ca, server_pem]
    client = [program, "client", str(entry), str(tls_port), ca, client_pem, RELAY_SERVER_NAME]
    procs = [subprocess.Popen(argv) for argv in (server, client)]
    wait_listening(tls_port)
    wait_listening(entry)
    return entry, procs


PATHS = {
    "direct": "direct loopback",
    "socat": "two socat relays",
    "socat_reno": "two socat relays, Reno",
    "stunnel": "two stunnel relays, TLS",
    "native": "two native C relays, TLS (reference)",
    "plain": "tunnel, plain WAN",
    "tls": "tunnel, TLS WAN",
}
# (tunnel path, reference path, target ratio or None)
RATIOS = (
    ("plain", "socat", 3.0),
    ("tls", "stunnel", 1.5),
    ("native", "stunnel", None),
    ("tls", "native", None),
)


def measure_throughput(seconds: float, runs: int) -> None:
    iperf_port = free_port()
    iperf_server = subprocess.Popen(
        ["iperf3", "-s", "-p", str(iperf_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children = {mode: Child(wan_tls=mode == "tls", lan_auth=False) for mode in ("plain", "tls")}
    procs: list[subprocess.Popen[bytes]] = []
    rates: dict[str, list[float]] = {path: [] for path in PATHS}
    # CPU-seconds per GiB of the relaying processes (socat forks one per connection: not
    # counted); on a busy machine this moves less than the rates.
    cpu_per_gib: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory() as workdir:
            wait_listening(iperf_port)
            ports = {"direct": iperf_port}
            ports["socat"], socats = socat_chain(iperf_port)
            ports["socat_reno"], reno_socats = socat_chain(iperf_port, SOCAT_RENO)
            ports["stunnel"], stunnels = stunnel_chain(iperf_port, Path(workdir))
            procs += [*socats, *reno_socats, *stunnels]
            relays = {"stunnel": [proc.pid for proc in stunnels]}
            native = build_native_relay(Path(workdir))
            if native is not None:
                ports["native"], natives = native_chain(native, iperf_port, Path(workdir))
                procs += natives
                relays["native"] = [proc.pid for proc in natives]
            for mode, child in children.items():
                ports[mode] = tunnel_for(child, iperf_port)[0]
                relays[mode] = [child.proc.pid]
            cpu_per_gib = {path: [] for path in relays}
            # Rounds interleave the paths so a busy machine slows them alike.
            for _ in range(runs):
                for path, port in ports.items():
                    before = cpu_seconds(relays.get(path, []))
                    rate, received = iperf3(port, seconds)
                    rates[path].append(rate)
                    if path in cpu_per_gib:
                        used = cpu_seconds(relays[path]) - before
                        cpu_per_gib[path].append(used / (received / (1 << 30)))
    finally:
        for proc in (*procs, iperf_server):
            proc.terminate()
            proc.wait(10)
        for child in children.values():
            child.close()
    best = {path: max(values) for path, values in rates.items() if values}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews ratios)")
    print(f"single stream (iperf3 -t {seconds:g}), MB/s, {runs} interleaved rounds:")
    for path in best:
        rounds = " ".join(f"{rate / 1e6:6.0f}" for rate in rates[path])
        print(f"  {PATHS[path]:36} best {best[path] / 1e6:6.0f}   rounds {rounds}")
    cpu = {path: statistics.median(values) for path, values in cpu_per_gib.items()}
    print(
        "  relay CPU-seconds per GiB, median: "
        + ", ".join(f"{PATHS[path]} {value:.2f}" for path, value in cpu.items())
        + f"; stunnel / TLS tunnel x{cpu['stunnel'] / cpu['tls']:.2f}"
    )
    for path, reference, target in RATIOS:
        if path not in best or reference not in best:
            continue
        ratio = best[path] / best[reference]
        per_round = statistics.median(
            a / b for a, b in zip(rates[path], rates[reference], strict=True)
        )
        ceiling = best[path] / best["direct"]
        goal = f" (target >= {target})" if target else ""
        print(
            f"  {PATHS[path]} / {PATHS[reference]}: x{ratio:.2f} of bests, median of rounds"
            f" x{per_round:.2f}{goal}; x{ceiling:.2f} direct"
        )
        record(
            Figure(
                "tunnel",
                f"single stream, {PATHS[path]} / {PATHS[reference]} ({ceiling:.2f}x direct;"
                f" median of rounds {per_round:.2f}x)",
                f"{ratio:.2f}x",
                f">= {target}x" if target else "",
                ratio >= target if target else None,
            )
        )
    record(
        Figure(
            "tunnel",
            "relay CPU per GiB, two stunnel relays / TLS tunnel (median of rounds)",
            f"{cpu['stunnel'] / cpu['tls']:.2f}x",
        )
    )
    if "native" in cpu:
        record(
            Figure(
                "tunnel",
                "relay CPU per GiB, TLS tunnel / two native C relays (median of rounds)",
                f"{cpu['tls'] / cpu['native']:.2f}x",
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one iperf3 run")
    parser.add_argument("--runs", type=int, default=5, help="throughput rounds (best kept)")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--serve", choices=["tls", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--no-lan-auth", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_child(args.serve == "tls", lan_auth=not args.no_lan_auth)
        return 0
    missing = [tool for tool in ("socat", "stunnel", "iperf3") if shutil.which(tool) is None]
    if missing:
        print(
            f"not installed: {', '.join(missing)} (scripts/install.sh installs them)",
            file=sys.stderr,
        )
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    measure_throughput(args.seconds, args.runs)
    measure_setup_and_memory(args.connections)
    return 0


def setup_seconds(port: int, tunnel_id: str | None, credential: Credential | None) -> float:
    """connect() to the first echoed byte, GSLA included."""
    start = time.perf_counter()
    with connect(port, tunnel_id, credential) as sock:
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"
        return time.perf_counter() - start


SETUP_ROUNDS = 5


def measure_setup_and_memory(connections: int) -> None:
    child = Child(wan_tls=True)
    echo = EchoServer()
    stunnels: list[subprocess.Popen[bytes]] = []
    try:
        port, tid, cred = tunnel_for(child, echo.port, echo)
        with tempfile.TemporaryDirectory() as workdir:
            stunnel_port, stunnels = stunnel_chain(echo.port, Path(workdir))
            # The references carry one GSLA exchange end to end (the echo server's
            # credential); the tunnel runs two, on arrows 1 and 3.
            paths = {
                "tunnel": (port, tid, cred),
                "stunnel": (stunnel_port, tid, echo.credential),
                "direct": (echo.port, tid, echo.credential),
            }
            times: dict[str, list[float]] = {path: [] for path in paths}
            # Alternated rounds: a machine that slows down mid-run slows every path alike.
            per_round = max(1, connections // SETUP_ROUNDS)
            for _ in range(SETUP_ROUNDS):
                for path, target in paths.items():
                    times[path] += [setup_seconds(*target) for _ in range(per_round)]
        medians = {path: statistics.median(t) * 1e3 for path, t in times.items()}
        tunnel = sorted(times["tunnel"])
        p99 = tunnel[int(len(tunnel) * 0.99) - 1]
        median_ms = medians["tunnel"]
        ratio = medians["tunnel"] / medians["stunnel"]
        print(
            f"set-up over {len(tunnel)} sequential connections (TLS WAN, GSLA both LAN legs):"
            f" median {median_ms:.2f} ms (target <= 3), p99 {p99 * 1e3:.2f} ms"
            f" (target <= 15); same rounds: two stunnel relays {medians['stunnel']:.2f} ms"
            f" ({ratio:.2f}x), direct {medians['direct']:.2f} ms"
        )
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
            Figure(
                "tunnel",
                "set-up median / two stunnel TLS relays, same rounds",
                f"{ratio:.2f}x ({medians['stunnel']:.2f} ms; direct {medians['direct']:.2f} ms)",
            ),
        )
        idle = child.ask(op="rss")["rss_kib"]
        held = []
        for _ in range(connections):
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
        for proc in stunnels:
            proc.terminate()
        child.close()
        echo.close()


if __name__ == "__main__":
    sys.exit(main())
