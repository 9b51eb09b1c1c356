"""Every resolver hook under LD_PRELOAD, from a small C program: tunnel names get the fake
addresses (IPv4 240.71.0.0/16, IPv6 100::4753:4c41:0:n), ordinary names libc's answer."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.intercept.conftest import ROOT
from tests.intercept.targets import preload_env


@pytest.fixture(scope="module")
def probe(build_module, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("probe") / "resolver_probe"
    return build_module.build_program(
        build_module.host_arch(), [ROOT / "libintercept/tests/resolver_probe.c"], out
    )


def answers(probe: Path, name: str, env: dict[str, str]) -> dict[str, list[str]]:
    result = subprocess.run([probe, name], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        call, _, rest = line.partition(" ")
        found.setdefault(call, []).append(rest)
    return found


def test_tunnel_name_in_every_resolver(probe, tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    got = answers(probe, tunnel.name, tunnel.env)
    v4, v6 = "240.71.0.1", "100::4753:4c41:0:1"  # the first slot of this process
    assert got["gethostbyname"] == [f"{v4} name={tunnel.name}"]
    assert got["gethostbyname2"] == [f"{v6} name={tunnel.name}"]
    assert got["gethostbyname_r"] == [f"{v4} name={tunnel.name}"]
    assert got["gethostbyname2_r"] == [f"{v6} name={tunnel.name}"]
    assert got["gethostbyname_r-small"] == ["erange"]
    http = socket.getservbyname("http")
    entries = got["getaddrinfo"]
    assert f"inet/{socket.SOCK_STREAM} {v4} {http}" == entries[0]  # IPv4 first
    assert f"inet6/{socket.SOCK_STREAM} {v6} {http}" in entries
    assert got["canonname"] == [tunnel.name]


def test_ordinary_name_untouched(probe, built_library, confs) -> None:  # type: ignore[no-untyped-def]
    env = preload_env(built_library, confs.path)
    plain = answers(probe, "localhost", {k: v for k, v in env.items() if k != "LD_PRELOAD"})
    assert answers(probe, "localhost", env) == plain
    assert plain["gethostbyname"] == ["127.0.0.1 name=localhost"]


def test_tunnel_name_without_conf(probe, built_library, confs, tunnel_id) -> None:  # type: ignore[no-untyped-def]
    got = answers(probe, f"globus.{tunnel_id}", preload_env(built_library, confs.path))
    assert got["gethostbyname"] == ["none"] and got["gethostbyname2_r"] == ["none"]
    assert got["getaddrinfo"] == [f"error {socket.EAI_NONAME}"]
