"""Running the CLI against the served simulator and reading what it printed."""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

from ..server import Host


def make_host(tmp_path: Path, name: str, sim_env: dict[str, str]) -> Host:
    home = tmp_path / name
    home.mkdir()
    return Host(home, sim_env)


def create_tunnel(host: Host, *extra: str) -> str:
    env = host.sim_env
    result = host.ok(
        "tunnel", "create", env["ORBIT_SIM_INITIATOR_AP"], env["ORBIT_SIM_LISTENER_AP"], *extra
    )
    return str(uuid.UUID(result.stdout.strip()))


def json_out(result: subprocess.CompletedProcess[str]) -> Any:
    """stdout of a successful run, parsed as JSON (the assertion shows stderr otherwise)."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def json_error(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON error line on stderr of a failed run in JSON mode; stdout stays empty."""
    assert result.returncode != 0
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    error = json.loads(lines[0])
    assert error["exit_status"] == result.returncode
    return error


def text_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one `globus-streams: error:` line of a failed run in text mode."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("globus-streams: error: ")
    return lines[0]


def services_down_env(host: Host) -> tuple[dict[str, str], str]:
    """`host`'s environment with Auth and Transfer at a loopback port nobody listens on,
    and that dead URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = host.env(
        GLOBUS_SDK_SERVICE_URL_TRANSFER=f"{dead}/transfer/",
        GLOBUS_SDK_SERVICE_URL_AUTH=f"{dead}/auth/",
    )
    return env, dead
