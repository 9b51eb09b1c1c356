"""The library never stalls, hangs or surprises its host (SPEC 3.4), shown with real
programs under LD_PRELOAD: an edge-triggered event loop behind a junk peer, signals during
a handshake, replaced sockets keeping their settings, FIFOs where files belong, a stderr
the host closed and reused, and the one-line notices for refusals a user can act on."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from orbit_globus.lan import (
    Challenge,
    ClientHandshake,
    Credential,
    Role,
    Status,
    client_handshake,
)
from tests.intercept.confs import ConfDir
from tests.intercept.netutil import Background
from tests.intercept.targets import free_port, preload_env, run
from tests.intercept.tunnels import FAKE_PORT

LISTENER_APP = Path(__file__).with_name("listener_app.py")
DATA = b"the real connection " * 100
DIGEST = hashlib.sha256(DATA).hexdigest()

EPOLL_LISTENER = """
import hashlib, select, socket, sys
port = int(sys.argv[1])
listener = socket.socket()
listener.bind(("127.0.0.1", port))
listener.listen(16)
listener.setblocking(False)
print("listening", flush=True)
sys.stdin.readline()  # the test has queued its peers
poller = select.epoll()
poller.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)
while True:
    if not poller.poll(5):
        print("stalled", flush=True)  # an edge was consumed and nothing was accepted
        sys.exit(1)
    while True:  # edge-triggered: accept until EAGAIN
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            break
        conn.setblocking(True)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        print("conn", hashlib.sha256(data).hexdigest(), flush=True)
        sys.exit(0)
"""


def listener_env(
    library: Path, confs: ConfDir, port: int, **extra: str
) -> tuple[str, Credential, dict[str, str]]:
    tunnel_id, credential = str(uuid.uuid4()), Credential("listener-secret", uuid.uuid4())
    confs.listener(tunnel_id, credential.secret, credential.secret_id)
    env = preload_env(
        library, confs.path, **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{port}": tunnel_id}, **extra
    )
    return tunnel_id, credential, env


def test_edge_triggered_listener_not_stalled_by_junk(built_library: Path, confs: ConfDir) -> None:
    """72 junk bytes queued before a real connection: the accept that refuses the junk
    returns the real one instead of EAGAIN, so the edge is not lost."""
    port = free_port()
    tunnel_id, credential, env = listener_env(built_library, confs, port)
    app = subprocess.Popen(
        [sys.executable, "-c", EPOLL_LISTENER, str(port)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert app.stdout is not None and app.stdin is not None
        assert app.stdout.readline() == b"listening\n"
        junk = socket.create_connection(("127.0.0.1", port))
        junk.sendall(bytes(range(72)))
        real = socket.create_connection(("127.0.0.1", port))  # queued behind the junk
        hs = ClientHandshake(
            tunnel_id=tunnel_id,
            secret=credential.secret,
            secret_id=credential.secret_id,
            role=Role.ACCESS_POINT,
        )
        handshake = Background(lambda: client_handshake(real, hs, 20))
        app.stdin.write(b"go\n")
        app.stdin.flush()
        handshake.result()
        real.sendall(DATA)
        real.shutdown(socket.SHUT_WR)
        out, err = app.communicate(timeout=30)
        assert out.decode().split() == ["conn", DIGEST], err.decode()
        junk.close()
        real.close()
    finally:
        app.kill()
        app.wait(10)


SIGNAL_APP = """
import signal, socket, sys
class Interrupted(Exception):
    pass
def on_alarm(signum, frame):
    raise Interrupted
signal.signal(signal.SIGALRM, on_alarm)  # no SA_RESTART, as CPython installs handlers
side, port = sys.argv[1], int(sys.argv[2])
try:
    if side == "accept":
        listener = socket.socket()
        listener.bind(("127.0.0.1", port))
        listener.listen(4)
        print("listening", flush=True)
        sys.stdin.readline()
        signal.alarm(1)
        listener.accept()
    else:
        signal.alarm(1)
        socket.create_connection((sys.argv[3], port))
    print("returned", flush=True)
except Interrupted:
    print("interrupted", flush=True)
"""


def test_signal_interrupts_blocking_accept_handshake(built_library: Path, confs: ConfDir) -> None:
    port = free_port()
    _, _, env = listener_env(
        built_library, confs, port, GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="60000"
    )
    app = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_APP, "accept", str(port)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert app.stdout is not None and app.stdin is not None
        assert app.stdout.readline() == b"listening\n"
        silent = socket.create_connection(("127.0.0.1", port))  # handshake never comes
        app.stdin.write(b"go\n")
        app.stdin.flush()
        out, err = app.communicate(timeout=20)
        assert out == b"interrupted\n", err.decode()
        silent.close()
    finally:
        app.kill()
        app.wait(10)


def test_signal_interrupts_blocking_connect_handshake(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address, silent=True)  # the access point never answers
    tunnel.extra_env["GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS"] = "60000"
    result = run(
        [sys.executable, "-c", SIGNAL_APP, "connect", str(FAKE_PORT), tunnel.name],
        tunnel.env,
        timeout=20,
    )
    assert result.stdout == b"interrupted\n", result.stderr.decode()


REPLACED_SOCKET_APP = """
import json, socket, struct, sys
name, port, local_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
S, T = socket.SOL_SOCKET, socket.IPPROTO_TCP
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # the v4 access point needs a new socket
s.setsockopt(S, socket.SO_RCVTIMEO, struct.pack("ll", 2, 0))
s.setsockopt(S, socket.SO_SNDTIMEO, struct.pack("ll", 3, 0))
s.setsockopt(S, socket.SO_LINGER, struct.pack("ii", 1, 5))
s.setsockopt(S, socket.SO_KEEPALIVE, 1)
s.setsockopt(T, socket.TCP_KEEPIDLE, 77)
s.setsockopt(T, socket.TCP_KEEPINTVL, 7)
s.setsockopt(T, socket.TCP_KEEPCNT, 4)
s.setsockopt(T, socket.TCP_NODELAY, 1)
s.setsockopt(S, socket.SO_RCVBUF, 65536)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, 0x20)
s.bind(("::", local_port))
def settings():
    return {
        "rcvtimeo": struct.unpack("ll", s.getsockopt(S, socket.SO_RCVTIMEO, 16)),
        "sndtimeo": struct.unpack("ll", s.getsockopt(S, socket.SO_SNDTIMEO, 16)),
        "linger": struct.unpack("ii", s.getsockopt(S, socket.SO_LINGER, 8)),
        "keepalive": s.getsockopt(S, socket.SO_KEEPALIVE),
        "keepidle": s.getsockopt(T, socket.TCP_KEEPIDLE),
        "keepintvl": s.getsockopt(T, socket.TCP_KEEPINTVL),
        "keepcnt": s.getsockopt(T, socket.TCP_KEEPCNT),
        "nodelay": s.getsockopt(T, socket.TCP_NODELAY),
        "rcvbuf": s.getsockopt(S, socket.SO_RCVBUF),
    }
before = settings()
info = socket.getaddrinfo(name, port, socket.AF_INET6, socket.SOCK_STREAM)
s.connect(info[0][4])
after = settings()
family = s.getsockopt(S, socket.SO_DOMAIN)
tos = s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) if family == socket.AF_INET else None
print(json.dumps({"before": before, "after": after, "v4": family == socket.AF_INET,
                  "tos": tos, "local_port": s.getsockname()[1]}))
"""


def test_replaced_socket_keeps_the_application_settings(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)  # IPv4 access point
    local_port = free_port()
    argv = [sys.executable, "-c", REPLACED_SOCKET_APP, tunnel.name, str(FAKE_PORT), str(local_port)]
    result = run(argv, tunnel.env)
    assert result.returncode == 0, result.stderr.decode()
    seen = json.loads(result.stdout)
    assert seen["v4"]  # the library had to put an IPv4 socket in place
    assert seen["after"] == seen["before"]
    assert seen["tos"] == 0x20  # IPV6_TCLASS carried over as IP_TOS
    assert seen["local_port"] == local_port


RESOLVE_APP = """
import socket, sys
try:
    socket.getaddrinfo(sys.argv[1], 80)
    print("resolved")
except socket.gaierror:
    print("not found")
"""


def test_fifo_at_conf_path_does_not_hang(built_library: Path, confs: ConfDir) -> None:
    tunnel_id = str(uuid.uuid4())
    os.mkfifo(confs.file(tunnel_id), 0o600)
    env = preload_env(built_library, confs.path)
    result = run([sys.executable, "-c", RESOLVE_APP, f"globus.{tunnel_id}"], env, timeout=20)
    assert result.stdout == b"not found\n"
    assert b"not a regular file" in result.stderr


def test_fifo_as_debug_log_does_not_hang(
    built_library: Path, confs: ConfDir, tmp_path: Path
) -> None:
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo, 0o600)
    env = preload_env(built_library, confs.path, GLOBUS_STREAMS_LOG=str(fifo))
    result = run([sys.executable, "-c", RESOLVE_APP, f"globus.{uuid.uuid4()}"], env, timeout=20)
    assert result.stdout == b"not found\n"


REUSED_FD_APP = """
import os, socket, sys
name, log = sys.argv[1], sys.argv[2]
def resolve():
    try:
        socket.getaddrinfo("globus." + name, 80)
    except socket.gaierror:
        pass
resolve()  # the library has written its first lines
if log == "-":
    target = 2
else:
    target = next(int(fd) for fd in os.listdir("/proc/self/fd")
                  if os.path.realpath(f"/proc/self/fd/{fd}") == log)
os.close(target)
ours, theirs = socket.socketpair()
if ours.fileno() != target:
    os.dup2(ours.fileno(), target)
resolve()  # more debug lines: none may reach the application's socket
theirs.setblocking(False)
try:
    leaked = theirs.recv(65536)
except BlockingIOError:
    leaked = b""
print(len(leaked))
"""


@pytest.mark.parametrize("where", ["stderr", "log-file"])
def test_debug_lines_never_reach_a_reused_descriptor(
    built_library: Path, confs: ConfDir, tmp_path: Path, where: str
) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "debug.log"
    extra = {"GLOBUS_STREAMS_LOG": str(log)} if where == "log-file" else {}
    env = preload_env(built_library, confs.path, **extra)
    target = str(log) if where == "log-file" else "-"
    result = run([sys.executable, "-c", REUSED_FD_APP, str(uuid.uuid4()), target], env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"0\n"
    if where == "log-file":  # reopened: the later lines still arrive
        assert log.read_text().count("no conf for tunnel") == 2


NOTICE_APP = """
import socket, sys
for _ in range(3):
    try:
        info = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_INET, socket.SOCK_STREAM)
        with socket.create_connection(info[0][4][:2], timeout=10) as s:
            s.sendall(b"x")
    except OSError as exc:
        print(type(exc).__name__, exc.errno, flush=True)
"""


def notices(stderr: bytes, tunnel_id: str) -> list[str]:
    return [
        line
        for line in stderr.decode().splitlines()
        if line.startswith(f"globus-streams: tunnel {tunnel_id}:")
    ]


def test_notice_once_for_an_unusable_conf(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.confs.file(tunnel.id).chmod(0o644)
    env = {**tunnel.env, "GLOBUS_STREAMS_DEBUG": "0"}
    result = run([sys.executable, "-c", NOTICE_APP, tunnel.name, str(FAKE_PORT)], env)
    (line,) = notices(result.stderr, tunnel.id)
    assert "conf file is unusable" in line
    assert tunnel.credential.secret.encode() not in result.stderr


class RefusingAccessPoint:
    """Answers every HELLO with a refusing CHALLENGE (`status`), then closes."""

    def __init__(self, status: Status) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.contact = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._status = status
        self._thread = Background(self._serve)

    def _serve(self) -> None:
        for _ in range(3):
            conn, _ = self._listener.accept()
            with conn:
                conn.settimeout(10)
                conn.recv(72)  # the HELLO
                conn.sendall(Challenge(self._status).encode())

    def stop(self) -> None:
        self._listener.close()


@pytest.mark.parametrize(
    ("status", "expired", "expected"),
    [
        (Status.TUNNEL_NOT_ACTIVE, False, "not active"),
        (Status.STALE_SECRET, False, "stale"),
        (Status.AUTH_FAILED, False, "does not match"),
        (Status.TUNNEL_NOT_ACTIVE, True, "expired"),
    ],
)
def test_notice_once_for_a_refusal_the_user_can_act_on(
    built_library: Path, confs: ConfDir, status: Status, expired: bool, expected: str
) -> None:  # type: ignore[no-untyped-def]
    ap = RefusingAccessPoint(status)
    try:
        tunnel_id = str(uuid.uuid4())
        expires = int(time.time()) + (-60 if expired else 3600)
        confs.write(
            tunnel_id,
            role="initiator",
            lankey="the-secret",
            lankey_id=uuid.uuid4(),
            connector_contact_string=ap.contact,
            update_time=int(time.time()),
            tunnel_expiration_time=expires,
        )
        env = preload_env(built_library, confs.path, GLOBUS_STREAMS_DEBUG="0")
        argv = [sys.executable, "-c", NOTICE_APP, f"globus.{tunnel_id}", str(FAKE_PORT)]
        result = run(argv, env)
        assert result.stdout.decode().split() == ["ConnectionRefusedError", "111"] * 3
        (line,) = notices(result.stderr, tunnel_id)
        assert expected in line
        assert b"the-secret" not in result.stderr
    finally:
        ap.stop()


def test_listener_notice_once_without_a_conf(built_library: Path, confs: ConfDir) -> None:
    """Connections to a tunnel listener without its conf are refused (fail closed) and the
    user reads one line saying what to run, however many arrive."""
    port, tunnel_id = free_port(), str(uuid.uuid4())
    env = preload_env(
        built_library,
        confs.path,
        GLOBUS_STREAMS_DEBUG="0",
        **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{port}": tunnel_id},
    )
    argv = [sys.executable, str(LISTENER_APP), str(port), "4", "blocking", "1"]
    app = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert app.stdout is not None
        assert app.stdout.readline() == b"listening\n"
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port)) as peer:
                peer.settimeout(10)
                assert peer.recv(1) == b""  # closed unanswered: no conf, no handshake
    finally:
        app.kill()
        _, err = app.communicate(timeout=10)
    (line,) = notices(err, tunnel_id)
    assert "not initialized here" in line
