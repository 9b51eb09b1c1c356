"""`orbit-sim demo`: the whole product on one machine, with real programs (SPEC 5.6).

A simulator with stream access points starts; a tunnel is created and both sides are
initialized in temporary homes by the real CLI; a real `nc -l` listens under the launcher
and a real `nc` streams random data to it through the tunnel while a progress bar runs; the
far end's SHA-256 is checked. Then `curl https://` reaches a TLS server through a
`--globus-contact` name, verifying a trustme certificate. A table sums it up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from orbit_sim.testing import (
    StreamsTunnel,
    file_server_argv,
    open_tunnel,
    running_simulator,
    tls_files,
)

SERVICE_NAME = "data.orbit-sim.example"
SERVICE_PORT = 8443
CHUNK = 1024 * 1024


class DemoFailed(Exception):
    """A step of the demo did not do what it should; the message says which."""


@dataclass
class Figures:
    name: str
    setup_ms: float
    mib_per_s: float
    verified: int
    ok: bool


def _netcat() -> str:
    for name in ("nc.openbsd", "nc"):
        if shutil.which(name):
            return name
    raise DemoFailed("netcat is not installed (scripts/install.sh installs netcat-openbsd)")


def _stream_with_nc(tunnel: StreamsTunnel, size: int, console: Console) -> Figures:
    nc = _netcat()
    server = tunnel.listen(
        [nc, "-l", str(tunnel.listener_port)], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    far_end = hashlib.sha256()
    received = 0
    first_byte_at: list[float] = []

    def drain() -> None:
        nonlocal received
        assert server.stdout is not None
        while chunk := server.stdout.read1(CHUNK):  # type: ignore[attr-defined]
            if not first_byte_at:
                first_byte_at.append(time.perf_counter())
            far_end.update(chunk)
            received += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.perf_counter()
    client = tunnel.connect(
        [nc, "-N", tunnel.contact_host, str(tunnel.contact_port)], stdin=subprocess.PIPE
    )
    assert client.stdin is not None
    near_end = hashlib.sha256()
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("nc → tunnel → nc -l", total=size)
            for offset in range(0, size, CHUNK):
                block = os.urandom(min(CHUNK, size - offset))
                near_end.update(block)
                client.stdin.write(block)
                progress.update(task, advance=len(block))
            client.stdin.close()
            client.wait(60)
            reader.join(60)
            server.wait(10)
        elapsed = time.perf_counter() - started
    finally:
        for proc in (client, server):
            if proc.poll() is None:
                proc.kill()
    ok = received == size and far_end.digest() == near_end.digest()
    setup = (first_byte_at[0] - started) * 1000 if first_byte_at else float("nan")
    return Figures("nc → nc -l", setup, size / elapsed / 2**20, received, ok)


def _curl_https(tunnel: StreamsTunnel, workdir: Path, size: int) -> Figures:
    if not shutil.which("curl"):
        raise DemoFailed("curl is not installed (scripts/install.sh installs it)")
    site = workdir / "site"
    site.mkdir()
    data = os.urandom(size)
    (site / "data.bin").write_bytes(data)
    tls = tls_files(workdir, SERVICE_NAME)
    server = tunnel.listen(
        file_server_argv(tunnel.listener_port, site, tls), stderr=subprocess.DEVNULL
    )
    try:
        out_file = workdir / "downloaded.bin"
        curl = tunnel.connect(
            ["curl", "-sS", "--max-time", "60", "--cacert", str(tls.ca)]
            + ["-o", str(out_file), "-w", "%{time_appconnect} %{speed_download}"]
            + [f"https://{SERVICE_NAME}:{SERVICE_PORT}/data.bin"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = curl.communicate(timeout=90)
        if curl.returncode != 0:
            raise DemoFailed(f"curl through the tunnel failed: {err.decode().strip()}")
        tls_done, speed = (float(x) for x in out.split())
        got = out_file.read_bytes()
        ok = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        return Figures("curl https", tls_done * 1000, speed / 2**20, len(got), ok)
    finally:
        server.kill()
        server.wait(10)


def run_demo(size_mib: int = 256, console: Console | None = None) -> bool:
    """Run the demo; prints as it goes and returns True when every byte was verified."""
    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="orbit-sim-demo-") as tmp:
        workdir = Path(tmp)
        console.print("[bold]orbit-sim demo[/]: simulator, tunnel, real programs")
        with running_simulator() as server:
            console.print(f"  simulator on {server.base_url}")
            tunnel = open_tunnel(
                server, workdir / "nc", globus_contacts=[f"{SERVICE_NAME}:{SERVICE_PORT}"]
            )
            console.print(f"  tunnel {tunnel.id}: both sides initialized")
            console.print(f"  contact string globus.{tunnel.id}:{tunnel.contact_port}")
            rows = [_stream_with_nc(tunnel, size_mib * 2**20, console)]
            rows.append(_curl_https(tunnel, workdir, 32 * 2**20))
    table = Table(title="through the simulated tunnel (TLS WAN leg, GSLA on both LAN legs)")
    for column in ("program", "connection set-up", "throughput", "bytes verified", "SHA-256"):
        table.add_column(column, justify="left" if column == "program" else "right")
    for row in rows:
        table.add_row(
            row.name,
            f"{row.setup_ms:.1f} ms",
            f"{row.mib_per_s:.0f} MiB/s",
            f"{row.verified:,}",
            "[green]match[/]" if row.ok else "[red]MISMATCH[/]",
        )
    console.print(table)
    console.print(
        "set-up: nc = launch to first byte at the far end (includes process start); "
        "curl = TCP + GSLA + TLS handshakes (time_appconnect)"
    )
    return all(row.ok for row in rows)
