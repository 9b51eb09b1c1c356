"""Real programs under LD_PRELOAD reach a target through an access-point stub: the library
resolves globus.<tunnel>, connects to the access point, authenticates (GSLA as role 1),
and the data arrives intact both ways (checked by hash)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator

import pytest

from tests.intercept.targets import HashServer, HttpHashServer, free_port, reply_for, run
from tests.intercept.tunnels import FAKE_PORT, Tunnel

V4, V6 = socket.AF_INET, socket.AF_INET6
DATA = bytes(range(256)) * 2048 + b"tail"  # 512 KiB, every byte value

PYTHON_CLIENT = """
import socket, sys
family = socket.AF_INET6 if sys.argv[3] == "6" else socket.AF_INET
info = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), family, socket.SOCK_STREAM)
with socket.socket(family, socket.SOCK_STREAM) as s:
    s.connect(info[0][4])
    s.sendall(sys.stdin.buffer.read())
    s.shutdown(socket.SHUT_WR)
    while chunk := s.recv(65536):
        sys.stdout.buffer.write(chunk)
"""


def _family_flag(family: int) -> str:
    return "-6" if family == V6 else "-4"


CLIENTS: dict[str, Callable[[Tunnel, int], list[str]]] = {
    "nc.openbsd": lambda t, f: ["nc.openbsd", "-N", _family_flag(f), t.name, str(FAKE_PORT)],
    "ncat": lambda t, f: ["ncat", _family_flag(f), t.name, str(FAKE_PORT)],
    "socat": lambda t, f: [
        "socat",
        "-t",
        "5",
        "-",
        f"TCP{4 if f == V4 else 6}:{t.name}:{FAKE_PORT}",
    ],
    "python3": lambda t, f: [
        sys.executable,
        "-c",
        PYTHON_CLIENT,
        t.name,
        str(FAKE_PORT),
        "6" if f == V6 else "4",
    ],
}


def _check(result, tunnel: Tunnel) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == reply_for(DATA)
    assert tunnel.credential.secret.encode() not in result.stderr
    assert [o.status for o in tunnel.ap.outcomes] == [0]


@pytest.mark.parametrize("app_family", [V4, V6], ids=["app-ipv4", "app-ipv6"])
@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_program_through_tunnel(tunnels, hash_server, client: str, app_family: int) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address, ap_family=app_family)
    result = run(CLIENTS[client](tunnel, app_family), tunnel.env, DATA)
    _check(result, tunnel)
    assert hash_server.received == [DATA]


@pytest.mark.parametrize(
    ("app_family", "ap_family"), [(V4, V6), (V6, V4)], ids=["ipv4-app-ipv6-ap", "ipv6-app-ipv4-ap"]
)
def test_socket_family_differs_from_access_point(
    tunnels, hash_server, app_family, ap_family
) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address, ap_family=ap_family)
    result = run(CLIENTS["nc.openbsd"](tunnel, app_family), tunnel.env, DATA)
    _check(result, tunnel)


def test_nc_traditional_uses_gethostbyname(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    result = run(["nc.traditional", "-q", "2", tunnel.name, str(FAKE_PORT)], tunnel.env, DATA)
    _check(result, tunnel)
    assert b"gethostbyname(" in result.stderr  # resolved through the gethostbyname family


@pytest.fixture
def http_server() -> Iterator[HttpHashServer]:
    server = HttpHashServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("family", [V4, V6], ids=["ipv4", "ipv6"])
def test_curl_threaded_resolver_nonblocking_connect(tunnels, http_server, family) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(http_server.address, ap_family=family)
    url = f"http://{tunnel.name}:{FAKE_PORT}/upload"
    argv = ["curl", "-sS", _family_flag(family), "--data-binary", "@-", "-H", "Expect:", url]
    result = run(argv, tunnel.env, DATA)
    _check(result, tunnel)


def test_globus_contact_names_are_routed(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(globus_contact="data.example.org:9000,Other.Example:9000")
    tunnel.extra_env["GLOBUS_STREAMS_TUNNELS"] = f"not-a-tunnel,{tunnel.id}"
    for name in ("data.example.org", "other.example."):
        result = run(CLIENTS["nc.openbsd"](tunnel, V4)[:-2] + [name, "9000"], tunnel.env, DATA)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout == reply_for(DATA)
    assert len(tunnel.ap.outcomes) == 2


def test_globus_contact_matches_host_and_port(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    """example.test:443 routes port 443 only; localhost:<port> leaves localhost's other
    ports to libc, where a plain server (no tunnel) answers."""
    tunnel = tunnels(hash_server.address)
    plain = HashServer()
    try:
        routed_port = free_port()
        tunnel.write_conf(globus_contact=f"example.test:443, localhost:{routed_port}")
        tunnel.extra_env["GLOBUS_STREAMS_TUNNELS"] = tunnel.id
        nc = ["nc.openbsd", "-N", "-4"]
        for host, port in (("example.test", 443), ("localhost", routed_port)):
            result = run([*nc, host, str(port)], tunnel.env, DATA)
            assert result.returncode == 0, result.stderr.decode()
            assert result.stdout == reply_for(DATA)
        assert len(tunnel.ap.outcomes) == 2
        result = run([*nc, "localhost", str(plain.address[1])], tunnel.env, DATA)
        assert result.returncode == 0, result.stderr.decode()
        assert result.stdout == reply_for(DATA)
        assert len(tunnel.ap.outcomes) == 2  # libc's localhost, not the tunnel
        result = run(
            [sys.executable, "-c", PYTHON_CLIENT, "example.test", "80", "4"], tunnel.env, DATA
        )
        assert result.returncode != 0  # libc does not know example.test
        assert len(tunnel.ap.outcomes) == 2
    finally:
        plain.stop()


def test_globus_contact_names_need_the_tunnel_listed(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(globus_contact="data.example.invalid:9000")
    result = run(
        [sys.executable, "-c", PYTHON_CLIENT, "data.example.invalid", "9000", "4"], tunnel.env
    )
    assert result.returncode != 0  # not in GLOBUS_STREAMS_TUNNELS: libc's answer (none)
    assert tunnel.ap.outcomes == []
