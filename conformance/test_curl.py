"""curl through a tunnel: plain HTTP to the contact string, HTTPS to a `--globus-contact` name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from conformance.conftest import need, sha256
from orbit_sim.testing import open_tunnel

SERVER = Path(__file__).parent / "apps" / "https_server.py"
SERVICE_NAME = "data.orbit-sim.example"
SERVICE_PORT = 8443


def _serve(tunnel, directory: Path, *tls: str) -> subprocess.Popen[bytes]:
    return tunnel.listen(
        [sys.executable, str(SERVER), str(tunnel.listener_port), str(directory), *tls],
        stderr=subprocess.DEVNULL,
    )


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
    procs.append(_serve(t, site))
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
    ca = trustme.CA()
    cert = ca.issue_cert(SERVICE_NAME)
    cert_pem, key_pem, ca_pem = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    procs.append(_serve(t, site, str(cert_pem), str(key_pem)))

    url = f"https://{SERVICE_NAME}:{SERVICE_PORT}/data.bin"
    got = _curl(t, "--cacert", str(ca_pem), url)
    assert got.returncode == 0, got.stderr.decode() + t.debug_log("initiator")
    assert sha256(got.stdout) == sha256(payload)

    # The same request without the CA fails verification: TLS really is end to end.
    refused = _curl(t, url)
    assert refused.returncode == 60, refused.stderr.decode()
