"""The installed pytest plugin: the `sim` fixture in-process, and in server mode by one switch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USER_TEST = """
import os

import globus_sdk


def test_user_suite(sim):
    world = sim.world
    auth = globus_sdk.ConfidentialAppAuthClient(world.client_id, world.client_secret)
    authorizer = globus_sdk.ClientCredentialsAuthorizer(
        auth, globus_sdk.TransferClient.scopes.all
    )
    tc = globus_sdk.TransferClient(authorizer=authorizer)
    assert list(tc.list_tunnels()) == []
    served = os.environ.get("GLOBUS_SDK_SERVICE_URL_TRANSFER", "")
    print("MODE", "server" if served.startswith("http://127.0.0.1:") else "inprocess")
"""


@pytest.mark.parametrize(
    ("switch", "env", "expected"),
    [
        ([], {}, "inprocess"),
        (["--orbit-sim-server"], {}, "server"),
        ([], {"ORBIT_SIM_TEST_SERVER": "1"}, "server"),
    ],
)
def test_sim_fixture_mode_switch(
    tmp_path: Path, switch: list[str], env: dict[str, str], expected: str
) -> None:
    import os

    (tmp_path / "test_user.py").write_text(USER_TEST)
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GLOBUS_SDK_", "ORBIT_SIM_", "PYTEST_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *switch]
        + ["--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_user.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean | env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"MODE {expected}" in result.stdout
