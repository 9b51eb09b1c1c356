"""Listener side under LD_PRELOAD: connections accepted on a port named by
GLOBUS_STREAMS_INTERCEPT_PORT_<port> must pass the GSLA handshake (the access point is the
client, role 2); a failing connection is closed and never reaches the application."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orbit_globus.lan import Credential, HandshakeError, Status
from tests.intercept.ap_stub import connect_as_listener_ap
from tests.intercept.confs import ConfDir
from tests.intercept.netutil import LOOPBACK, recv_all
from tests.intercept.targets import free_port, preload_env

V4, V6 = socket.AF_INET, socket.AF_INET6
APP = Path(__file__).with_name("listener_app.py")
DATA = bytes(range(256)) * 1024 + b"end"
DIGEST = hashlib.sha256(DATA).hexdigest()


@dataclass
class ListenerTunnel:
    id: str
    credential: Credential
    port: int
    family: int
    env: dict[str, str]

    @property
    def address(self) -> tuple[str, int]:
        return (LOOPBACK[self.family], self.port)

    def connect(self, credential: Credential | None = None, tunnel_id: str | None = None):  # type: ignore[no-untyped-def]
        return connect_as_listener_ap(
            self.address, tunnel_id or self.id, credential or self.credential, self.family
        )


def wait_listening(port: int, family: int, timeout: float = 10) -> None:
    """Until the kernel shows a LISTEN socket on `port` (no probe connection needed)."""
    table = Path("/proc/net/tcp6" if family == V6 else "/proc/net/tcp")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port}")


def exchange(sock: socket.socket, data: bytes = DATA) -> bytes:
    with sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return recv_all(sock)


@pytest.fixture(params=[V4, V6], ids=["ipv4", "ipv6"])
def listener_tunnel(request, built_library: Path, confs: ConfDir) -> ListenerTunnel:  # type: ignore[no-untyped-def]
    family = request.param
    tunnel_id, credential = str(uuid.uuid4()), Credential("listener-secret", uuid.uuid4())
    confs.listener(tunnel_id, credential.secret, credential.secret_id)
    port = free_port(family)
    env = preload_env(
        built_library, confs.path, **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{port}": tunnel_id}
    )
    return ListenerTunnel(tunnel_id, credential, port, family, env)


@contextlib.contextmanager
def started(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        proc.stdin = None  # communicate() must not flush it again
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def python_app(tunnel: ListenerTunnel, mode: str, count: int) -> list[str]:
    family = "6" if tunnel.family == V6 else "4"
    return [sys.executable, str(APP), str(tunnel.port), family, mode, str(count)]


def finish(proc: subprocess.Popen) -> tuple[str, str]:  # type: ignore[type-arg]
    out, err = proc.communicate(timeout=30)
    return out.decode(), err.decode()


def refused_attempt(tunnel: ListenerTunnel, kind: str) -> None:
    """A connection the application must never see; sends bytes after its handshake fails."""
    credential, tunnel_id = tunnel.credential, None
    if kind == "wrong-secret":
        credential = Credential("not the secret", tunnel.credential.secret_id)
    elif kind == "stale-secret":
        credential = Credential(tunnel.credential.secret, uuid.uuid4())
    elif kind == "unknown-tunnel":
        tunnel_id = str(uuid.uuid4())
    if kind == "plain":
        sock = socket.create_connection(tunnel.address, timeout=10)
        with contextlib.suppress(OSError):
            sock.sendall(b"LEAK" * 100)  # not a HELLO: refused as BAD_MESSAGE, never delivered
            recv_all(sock)
        sock.close()
        return
    expected = {
        "wrong-secret": Status.AUTH_FAILED,  # the access point sees the app's proof is wrong
        "stale-secret": Status.STALE_SECRET,
        "unknown-tunnel": Status.UNKNOWN_TUNNEL,
    }[kind]
    with pytest.raises(HandshakeError) as caught:
        tunnel.connect(credential, tunnel_id).close()
    assert caught.value.status is expected


@pytest.mark.parametrize("mode", ["blocking", "dup", "fork", "exec"])
def test_python_listener_requires_handshake(listener_tunnel: ListenerTunnel, mode: str) -> None:
    tunnel = listener_tunnel
    with started(python_app(tunnel, mode, 1), tunnel.env) as app:
        wait_listening(tunnel.port, tunnel.family)
        refused_attempt(tunnel, "plain")
        refused_attempt(tunnel, "wrong-secret")
        assert exchange(tunnel.connect()) == DIGEST.encode()
        out, err = finish(app)
    assert out.splitlines()[-1] == f"conn {DIGEST}"  # only the authenticated connection
    assert out.count("conn") == 1
    assert tunnel.credential.secret not in err


@pytest.mark.parametrize("kind", ["wrong-secret", "stale-secret", "unknown-tunnel", "plain"])
def test_nonblocking_accept_skips_refused(listener_tunnel: ListenerTunnel, kind: str) -> None:
    """The refused connection never reaches the application: its accept returns the next
    queued connection, or EAGAIN ("again") when none is queued yet."""
    tunnel = listener_tunnel
    with started(python_app(tunnel, "nonblocking", 1), tunnel.env) as app:
        wait_listening(tunnel.port, tunnel.family)
        refused_attempt(tunnel, kind)
        assert exchange(tunnel.connect()) == DIGEST.encode()
        out, _ = finish(app)
    lines = out.splitlines()
    assert set(lines[:-1]) <= {"listening", "again"}
    assert lines[-1] == f"conn {DIGEST}" and out.count("conn") == 1


def test_nc_openbsd_listener(listener_tunnel: ListenerTunnel) -> None:
    tunnel = listener_tunnel
    reply = b"reply from the listening nc\n" * 1000
    family_flag = "-6" if tunnel.family == V6 else "-4"
    argv = ["nc.openbsd", "-N", family_flag, "-l", tunnel.address[0], str(tunnel.port)]
    with started(argv, tunnel.env, stdin=reply) as app:
        wait_listening(tunnel.port, tunnel.family)
        refused_attempt(tunnel, "wrong-secret")
        assert exchange(tunnel.connect()) == reply
        out, err = app.communicate(timeout=30)
    assert hashlib.sha256(out).hexdigest() == DIGEST  # nc printed exactly the good stream
    assert b"accepted" in err  # the library's debug line for the accepted connection


def test_port_not_named_is_not_intercepted(listener_tunnel: ListenerTunnel) -> None:
    tunnel = listener_tunnel
    env = {k: v for k, v in tunnel.env.items() if not k.startswith("GLOBUS_STREAMS_INTERCEPT")}
    with started(python_app(tunnel, "blocking", 1), env) as app:
        wait_listening(tunnel.port, tunnel.family)
        plain = socket.create_connection(tunnel.address, timeout=10)
        assert exchange(plain) == DIGEST.encode()
        finish(app)


def test_empty_lankey_means_no_handshake(listener_tunnel: ListenerTunnel, confs: ConfDir) -> None:
    tunnel = listener_tunnel
    confs.listener(tunnel.id, "", tunnel.credential.secret_id)
    with started(python_app(tunnel, "blocking", 1), tunnel.env) as app:
        wait_listening(tunnel.port, tunnel.family)
        plain = socket.create_connection(tunnel.address, timeout=10)
        assert exchange(plain) == DIGEST.encode()  # not one handshake byte either way
        finish(app)


@pytest.mark.parametrize("problem", ["world-readable", "missing", "garbled"])
def test_listener_conf_problem_fails_closed(
    listener_tunnel: ListenerTunnel, confs: ConfDir, problem: str
) -> None:
    """No usable conf: every connection is refused, the program keeps waiting, and the next
    connection after the conf is fixed gets through."""
    tunnel = listener_tunnel
    conf = confs.file(tunnel.id)
    good = conf.read_bytes()
    if problem == "world-readable":
        conf.chmod(0o644)
    elif problem == "missing":
        conf.unlink()
    else:
        confs.write_raw(tunnel.id, b"role listener\n")
    with started(python_app(tunnel, "blocking", 1), tunnel.env) as app:
        wait_listening(tunnel.port, tunnel.family)
        with pytest.raises((HandshakeError, ConnectionError)):
            tunnel.connect().close()  # closed before a single handshake byte
        assert app.poll() is None
        confs.write_raw(tunnel.id, good)
        assert exchange(tunnel.connect()) == DIGEST.encode()
        out, err = finish(app)
    assert out.count("conn") == 1
    assert "no usable listener conf; connection refused" in err
