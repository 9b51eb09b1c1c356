"""The core scenarios with aarch64 programs and the aarch64 library, under qemu-aarch64.

Debian's arm64 nc.openbsd and curl are unpacked into a sysroot by
`scripts/fetch-aarch64-programs.sh` (no binfmt: qemu-aarch64 runs them explicitly). The
library reaches the guest through `-E LD_PRELOAD=...`, never through qemu's own
environment, which would preload an aarch64 library into the x86_64 emulator. Skipped
unless ORBIT_AARCH64_ROOT names that sysroot (`.ci/run` sets it for its aarch64 leg).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.conftest import Output, sha256
from orbit_globus.native import library_path
from orbit_globus.streams import launch_env
from orbit_sim.testing import (
    StreamsTunnel,
    file_server_argv,
    open_tunnel,
    tls_files,
    wait_listening,
)

ROOT = Path(os.environ.get("ORBIT_AARCH64_ROOT", "/nonexistent"))
SERVICE = "data.orbit-sim.example"
PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL

pytestmark = pytest.mark.skipif(
    not (ROOT / "bin" / "nc.openbsd").exists() or shutil.which("qemu-aarch64") is None,
    reason="needs ORBIT_AARCH64_ROOT (scripts/fetch-aarch64-programs.sh) and qemu-aarch64",
)


def _guest(side, tunnel: StreamsTunnel, program: str, *args: str, **popen) -> subprocess.Popen:
    """Start an aarch64 program of the sysroot on `side`, with the aarch64 library."""
    env = launch_env(tunnel.id, env=side.env, log_file=tunnel.log_dir / f"{side.name}.log")
    env.pop("LD_PRELOAD")
    command = ["qemu-aarch64", "-L", str(ROOT), "-E"]
    command += [f"LD_PRELOAD={library_path('aarch64')}", str(ROOT / program), *args]
    return subprocess.Popen(command, env=env, **popen)


def test_aarch64_nc_both_ends(streams_tunnel, payload, procs) -> None:
    t = streams_tunnel
    server = _guest(
        t.listener, t, "bin/nc.openbsd", "-l", str(t.listener_port), stdout=PIPE, stdin=DEVNULL
    )
    procs.append(server)
    wait_listening(t.listener_port, server, timeout=30)
    received = Output(server)
    client = _guest(
        t.initiator, t, "bin/nc.openbsd", "-N", t.contact_host, str(t.contact_port), stdin=PIPE
    )
    procs.append(client)
    Output(client, payload).result(120)
    assert sha256(received.result(120)) == sha256(payload), t.debug_log("initiator")


def test_aarch64_curl_https(streams_server, tmp_path: Path, payload, procs) -> None:
    t = open_tunnel(streams_server, tmp_path, globus_contacts=[f"{SERVICE}:8443"])
    site = tmp_path / "site"
    site.mkdir()
    (site / "data.bin").write_bytes(payload)
    tls = tls_files(tmp_path, SERVICE)
    server = t.listen(file_server_argv(t.listener_port, site, tls), stderr=DEVNULL)
    procs.append(server)
    curl = _guest(
        t.initiator,
        t,
        "usr/bin/curl",
        "-sS",
        "--max-time",
        "90",
        "--cacert",
        str(tls.ca),
        f"https://{SERVICE}:8443/data.bin",
        stdout=PIPE,
        stderr=PIPE,
    )
    procs.append(curl)
    out, err = curl.communicate(timeout=120)
    assert curl.returncode == 0, err.decode() + t.debug_log("initiator")
    assert sha256(out) == sha256(payload)
