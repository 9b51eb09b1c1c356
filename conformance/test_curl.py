"""curl through a tunnel: plain HTTP to the contact string, HTTPS to a `--globus-contact` name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conformance.conftest import need, sha256
from orbit_sim.testing import file_server_argv, open_tunnel, tls_files

SERVICE_NAME = "data.orbit-sim.example"
SERVICE_PORT = 8443


def _curl(tunnel, *args: str) -> subprocess.CompletedProcess[bytes]:
    proc = tunnel.connect(
        ["curl", "-sS", "--max-time", "30", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def site(tmp_path: Path, payload: bytes) -> Path:
    directory = tmp_path / "site"
    directory.mkdir()
    (directory / "data.bin").write_bytes(payload)
    return directory


def test_curl_http_through_the_contact_string(streams_tunnel, site, payload, procs) -> None:
    need("curl")
    t = streams_tunnel
    procs.append(t.listen(file_server_argv(t.listener_port, site), stderr=subprocess.DEVNULL))
    # Several requests: every accepted connection runs its own handshake.
    for _ in range(3):
        got = _curl(t, f"http://{t.contact_host}:{t.contact_port}/data.bin")
        assert got.returncode == 0, got.stderr.decode() + t.debug_log("initiator")
        assert sha256(got.stdout) == sha256(payload)


def test_curl_https_with_sni_and_verification(
    streams_server, tmp_path: Path, site, payload, procs
) -> None:
    need("curl")
    t = open_tunnel(streams_server, tmp_path, globus_contacts=[f"{SERVICE_NAME}:{SERVICE_PORT}"])
    tls = tls_files(tmp_path, SERVICE_NAME)
    procs.append(t.listen(file_server_argv(t.listener_port, site, tls), stderr=subprocess.DEVNULL))

    url = f"https://{SERVICE_NAME}:{SERVICE_PORT}/data.bin"
    got = _curl(t, "--cacert", str(tls.ca), url)
    assert got.returncode == 0, got.stderr.decode() + t.debug_log("initiator")
    assert sha256(got.stdout) == sha256(payload)

    # The same request without the CA fails verification: TLS really is end to end.
    refused = _curl(t, url)
    assert refused.returncode == 60, refused.stderr.decode()
