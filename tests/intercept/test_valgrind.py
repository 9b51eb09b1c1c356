"""The preloaded library under valgrind's memcheck: no invalid access, no definite leak,
through the resolver hooks and a whole tunnel connection (skipped without valgrind)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.intercept.conftest import ROOT
from tests.intercept.targets import reply_for
from tests.intercept.tunnels import FAKE_PORT

VALGRIND = shutil.which("valgrind")
pytestmark = pytest.mark.skipif(VALGRIND is None, reason="valgrind is not installed")


@pytest.fixture(scope="module")
def programs(build_module, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("valgrind")
    return {
        name: build_module.build_program(
            build_module.host_arch(),
            [ROOT / "libintercept/tests" / f"{name}.c"],
            out / name,
            ["-g"],
        )
        for name in ("resolver_probe", "tiny_client")
    }


def memcheck(argv: list[str], env: dict[str, str], data: bytes = b"") -> bytes:
    command = [
        str(VALGRIND),
        "-q",
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        *argv,
    ]
    result = subprocess.run(command, input=data, env=env, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_resolver_hooks(programs, tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    out = memcheck([str(programs["resolver_probe"]), tunnel.name], tunnel.env)
    assert b"getaddrinfo inet/" in out


def test_tunnel_connection(programs, tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    data = b"checked by memcheck " * 5000
    argv = [str(programs["tiny_client"]), tunnel.name, str(FAKE_PORT)]
    assert memcheck(argv, tunnel.env, data) == reply_for(data)
