"""`orbit-sim serve` as a real subprocess: env file, readiness, SIGTERM -> exit 0."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import globus_sdk
import pytest
from globus_sdk.services.transfer import CreateTunnelData

from orbit_sim.cli import main
from orbit_sim.control import SimControl
from orbit_sim.services.auth.scopes import TRANSFER_ALL

SPEC_KEYS = {
    "GLOBUS_SDK_SERVICE_URL_AUTH",
    "GLOBUS_SDK_SERVICE_URL_TRANSFER",
    "GLOBUS_SDK_VERIFY_SSL",
    "GLOBUS_STREAMS_CLIENT_ID",
    "GLOBUS_STREAMS_CLIENT_SECRET",
    "ORBIT_SIM_URL",
    "ORBIT_SIM_CA",
    "ORBIT_SIM_INITIATOR_AP",
    "ORBIT_SIM_LISTENER_AP",
}
START_TIMEOUT = 20.0


def _read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        key, _, value = words[1].partition("=")
        env[key] = value
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str]]]:
    env_file = tmp_path / "sim.env"
    args = [sys.executable, "-m", "orbit_sim.cli", "serve", "--env-file", str(env_file)]
    args += ["--clock", "virtual", "--fault", "http:route=get_tunnel,status=503,count=1"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not env_file.exists():
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, "orbit-sim serve did not write its env file"
            time.sleep(0.02)
        yield process, _read_env(env_file)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_serve_writes_a_working_env_file_and_exits_0_on_sigterm(
    server: tuple[subprocess.Popen[bytes], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process, env = server
    assert set(env) >= SPEC_KEYS
    assert {"ORBIT_SIM_COLLECTION_1", "ORBIT_SIM_COLLECTION_2"} <= set(env)
    assert env["GLOBUS_SDK_VERIFY_SSL"] == env["ORBIT_SIM_CA"]
    assert "BEGIN CERTIFICATE" in Path(env["ORBIT_SIM_CA"]).read_text()
    assert (tmp_path / "sim.env").stat().st_mode & 0o077 == 0

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    auth = globus_sdk.ConfidentialAppAuthClient(
        env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    tc = globus_sdk.TransferClient(
        authorizer=globus_sdk.ClientCredentialsAuthorizer(auth, TRANSFER_ALL)
    )
    tc.retry_config.backoff = lambda ctx: 0.0
    data = CreateTunnelData(env["ORBIT_SIM_INITIATOR_AP"], env["ORBIT_SIM_LISTENER_AP"])
    tunnel_id = tc.create_tunnel(data)["data"]["id"]
    # The --fault given at start-up fails the first get_tunnel; the SDK retries it.
    assert tc.get_tunnel(tunnel_id)["data"]["id"] == tunnel_id
    # The GCS Manager is found as the CLI finds it: access point -> endpoint document ->
    # gcs_manager_url, and reached over HTTPS checked against the env file's CA.
    ap = tc.get_stream_access_point(env["ORBIT_SIM_LISTENER_AP"])["data"]
    endpoint_id = ap["relationships"]["host_endpoint"]["data"]["id"]
    manager_url = tc.get_endpoint(endpoint_id)["gcs_manager_url"]
    assert manager_url.startswith("https://127.0.0.1:")
    scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint_id).manage_collections
    gcs = globus_sdk.GCSClient(
        manager_url, authorizer=globus_sdk.ClientCredentialsAuthorizer(auth, scope)
    )
    body = {
        "DATA_TYPE": "lan_secret_create#1.0.0",
        "tunnel_id": tunnel_id,
        "stream_access_point_id": env["ORBIT_SIM_LISTENER_AP"],
    }
    secret = gcs.post("/lan_secrets", data=body)["data"][0]
    assert secret["secret"]
    assert gcs.delete(f"/lan_secrets/{secret['id']}")["http_response_code"] == 200

    with SimControl(env["ORBIT_SIM_URL"]) as control:
        assert control.list_faults() == []
        assert control.state()["clock"]["mode"] == "virtual"

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert not os.path.exists(env["ORBIT_SIM_CA"])


def test_sigint_also_exits_0(server: tuple[subprocess.Popen[bytes], dict[str, str]]) -> None:
    process, _ = server
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_bad_fault_spec_is_one_line_and_nonzero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fault", "nope:x=1"]) != 0
    err = capsys.readouterr().err.strip()
    assert "unknown fault kind 'nope'" in err
    assert "Traceback" not in err


def test_port_in_use_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    taken = socket.socket()
    try:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--clock", "virtual"]) == 1
    finally:
        taken.close()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers are restored
    err = capsys.readouterr().err.strip()
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
