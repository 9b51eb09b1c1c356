"""C against Python over real loopback sockets, both directions and both roles, and the
refusals: each ends with the documented status/errno and no application byte read or sent."""

from __future__ import annotations

import errno
import socket
import uuid

import pytest

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    HandshakeError,
    RefusedByPeer,
    Role,
    ServerHandshake,
    Status,
    client_handshake,
    lookup_for,
    server_handshake,
)
from orbit_globus.native import InterceptLibrary, Refusal
from tests.intercept.netutil import Background, closing_all, tcp_pair

SECRET = "lan-secret/with=equals=="
APP_BYTES = b"application bytes that the handshake must not consume"


@pytest.fixture(params=[socket.AF_INET, socket.AF_INET6], ids=["ipv4", "ipv6"])
def pair(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    client, server = tcp_pair(request.param)
    with closing_all(client, server):
        yield client, server


@pytest.mark.parametrize("role", [Role.APPLICATION, Role.ACCESS_POINT])
def test_c_client_against_python_server(native: InterceptLibrary, pair, role: Role) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()

    def serve() -> tuple[Status, bytes]:
        hs = ServerHandshake(lookup_for(tid, Credential(SECRET, sid)))
        status = server_handshake(server_sock, hs, timeout=10)
        server_sock.sendall(b"from server")
        return status, server_sock.recv(len(APP_BYTES), socket.MSG_WAITALL)

    server = Background(serve)
    with native.client(tunnel_id=tid, secret=SECRET, secret_id=sid, role=role) as client:
        assert client.run(client_sock, timeout=10) == 0
    client_sock.sendall(APP_BYTES)
    status, received = server.result()
    assert status is Status.OK
    assert received == APP_BYTES  # the server read exactly the handshake, then app bytes
    assert client_sock.recv(64) == b"from server"


@pytest.mark.parametrize("role", [Role.APPLICATION, Role.ACCESS_POINT])
def test_python_client_against_c_server(native: InterceptLibrary, pair, role: Role) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()

    def connect() -> None:
        hs = ClientHandshake(tunnel_id=tid, secret=SECRET, secret_id=sid, role=role)
        client_handshake(client_sock, hs, timeout=10)
        client_sock.sendall(APP_BYTES)  # arrives right behind the handshake

    client = Background(connect)
    with native.server(tunnel_id=tid, secret=SECRET, secret_id=sid) as server:
        assert server.run(server_sock, timeout=10) == 0
        assert server.status is Status.OK
    client.result()
    assert server_sock.recv(len(APP_BYTES), socket.MSG_WAITALL) == APP_BYTES


def test_c_client_against_c_server(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    with native.server(tunnel_id=tid, secret=SECRET, secret_id=sid) as server:
        serving = Background(lambda: server.run(server_sock, timeout=10))
        with native.client(tunnel_id=tid, secret=SECRET, secret_id=sid) as client:
            assert client.run(client_sock, timeout=10) == 0
        assert serving.result() == 0


def _python_server(sock: socket.socket, tid: uuid.UUID, credential: Credential) -> Background:
    def serve() -> tuple[Status | None, bytes]:
        hs = ServerHandshake(lookup_for(tid, credential))
        try:
            status = server_handshake(sock, hs, timeout=10)
        except (HandshakeError, ConnectionError):
            status = hs.status
        sock.settimeout(2)
        try:
            rest = sock.recv(4096)
        except (TimeoutError, ConnectionError):
            rest = b""
        return status, rest

    return Background(serve)


@pytest.mark.parametrize(
    ("server_credential", "server_tunnel", "status", "refusal"),
    [
        ("wrong-secret", "same", Status.AUTH_FAILED, Refusal.PEER_MISBEHAVED),
        ("stale-id", "same", Status.STALE_SECRET, Refusal.REFUSED_BY_PEER),
        ("right", "other", Status.UNKNOWN_TUNNEL, Refusal.REFUSED_BY_PEER),
    ],
)
def test_c_client_refused(  # type: ignore[no-untyped-def]
    native: InterceptLibrary, pair, server_credential, server_tunnel, status, refusal
) -> None:
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    credential = {
        "wrong-secret": Credential("another secret", sid),
        "stale-id": Credential(SECRET, uuid.uuid4()),
        "right": Credential(SECRET, sid),
    }[server_credential]
    server = _python_server(
        server_sock, tid if server_tunnel == "same" else uuid.uuid4(), credential
    )
    with native.client(tunnel_id=tid, secret=SECRET, secret_id=sid) as client:
        assert client.run(client_sock, timeout=10) == errno.ECONNREFUSED
        assert client.status is status
        assert client.refusal is refusal
    client_sock.close()
    _, leaked = server.result()
    # a client that distrusts the server never sends its proof (nor anything after)
    assert leaked == b""


@pytest.mark.parametrize(
    ("client_kind", "status"),
    [
        ("wrong-secret", Status.AUTH_FAILED),
        ("stale-id", Status.STALE_SECRET),
        ("unknown-tunnel", Status.UNKNOWN_TUNNEL),
    ],
)
def test_c_server_refuses(native: InterceptLibrary, pair, client_kind: str, status: Status) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    hs = {
        "wrong-secret": ClientHandshake(tunnel_id=tid, secret="guess", secret_id=sid),
        "stale-id": ClientHandshake(tunnel_id=tid, secret=SECRET, secret_id=uuid.uuid4()),
        "unknown-tunnel": ClientHandshake(tunnel_id=uuid.uuid4(), secret=SECRET, secret_id=sid),
    }[client_kind]

    def connect() -> Status:
        try:
            client_handshake(client_sock, hs, timeout=10)
        except HandshakeError as exc:
            client_sock.close()  # as an access point does after a refusal
            return exc.status
        return Status.OK

    client = Background(connect)
    with native.server(tunnel_id=tid, secret=SECRET, secret_id=sid) as server:
        assert server.run(server_sock, timeout=10) == errno.ECONNREFUSED
        if client_kind != "wrong-secret":  # there the client, not the server, saw the bad proof
            assert server.status is status
    assert client.result() is status


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda m: b"XXXX" + m[4:], Status.BAD_MESSAGE),
        (lambda m: m[:4] + b"\x09" + m[5:], Status.UNSUPPORTED_VERSION),
    ],
    ids=["bad-magic", "bad-version"],
)
def test_c_client_rejects_malformed_challenge(
    native: InterceptLibrary, pair, mutate, status
) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()

    def serve() -> bytes:
        hs = ServerHandshake(lookup_for(tid, Credential(SECRET, sid)))
        challenge = hs.receive(server_sock.recv(72, socket.MSG_WAITALL))
        server_sock.sendall(mutate(challenge))
        server_sock.settimeout(2)
        try:
            return server_sock.recv(100)
        except TimeoutError:
            return b"(nothing)"

    server = Background(serve)
    with native.client(tunnel_id=tid, secret=SECRET, secret_id=sid) as client:
        assert client.run(client_sock, timeout=10) == errno.ECONNREFUSED
        assert client.status is status
        assert client.refusal is Refusal.PEER_MISBEHAVED
    client_sock.close()
    assert server.result() in (b"", b"(nothing)")  # no RESPONSE, no application byte


def test_c_server_answers_bad_version_hello(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    hello = ClientHandshake(tunnel_id=tid, secret=SECRET, secret_id=sid).start()
    client_sock.sendall(hello[:4] + b"\x02" + hello[5:] + APP_BYTES)
    with native.server(tunnel_id=tid, secret=SECRET, secret_id=sid) as server:
        assert server.run(server_sock, timeout=10) == errno.ECONNREFUSED
        assert server.status is Status.UNSUPPORTED_VERSION
    reply = client_sock.recv(72, socket.MSG_WAITALL)
    assert reply[:6] == b"GSLA\x01" + bytes([Status.UNSUPPORTED_VERSION])
    # exactly the HELLO was read: the application bytes are still waiting in the socket
    assert server_sock.recv(len(APP_BYTES), socket.MSG_WAITALL) == APP_BYTES


def test_truncated_hello_then_close(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    hello = ClientHandshake(tunnel_id=uuid.uuid4(), secret=SECRET).start()
    client_sock.sendall(hello[:40])
    client_sock.shutdown(socket.SHUT_WR)
    with native.server(tunnel_id=uuid.uuid4(), secret=SECRET) as server:
        assert server.run(server_sock, timeout=10) == errno.ECONNREFUSED


def test_truncated_challenge_then_close(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair

    def serve() -> None:
        server_sock.recv(72, socket.MSG_WAITALL)
        server_sock.sendall(b"GSLA\x01\x00\x00\x00" + bytes(20))
        server_sock.close()

    server = Background(serve)
    with native.client(tunnel_id=uuid.uuid4(), secret=SECRET) as client:
        assert client.run(client_sock, timeout=10) == errno.ECONNREFUSED
    server.result()


@pytest.mark.parametrize("side", ["client", "server"])
def test_silent_peer_times_out(native: InterceptLibrary, pair, side: str) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid = uuid.uuid4()
    if side == "client":
        machine = native.client(tunnel_id=tid, secret=SECRET)
        sock = client_sock
    else:
        machine = native.server(tunnel_id=tid, secret=SECRET)
        sock = server_sock
    with machine:
        assert machine.run(sock, timeout=0.3) == errno.ETIMEDOUT


def test_python_client_refuses_c_server_with_other_secret(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    with native.server(tunnel_id=tid, secret="server secret", secret_id=sid) as server:
        serving = Background(lambda: server.run(server_sock, timeout=5))
        with pytest.raises(HandshakeError) as caught:
            client_handshake(
                client_sock, ClientHandshake(tunnel_id=tid, secret=SECRET, secret_id=sid), 5
            )
        assert not isinstance(caught.value, RefusedByPeer)  # the client caught the bad proof
        client_sock.close()
        assert serving.result() == errno.ECONNREFUSED


def test_c_server_rejects_wrong_client_proof(native: InterceptLibrary, pair) -> None:  # type: ignore[no-untyped-def]
    client_sock, server_sock = pair
    tid, sid = uuid.uuid4(), uuid.uuid4()
    hello = ClientHandshake(tunnel_id=tid, secret=SECRET, secret_id=sid).start()

    def forge() -> bytes:
        client_sock.sendall(hello)
        client_sock.recv(72, socket.MSG_WAITALL)
        client_sock.sendall(b"GSLA\x01\x00\x00\x00" + bytes(32) + APP_BYTES)  # forged proof
        return client_sock.recv(8, socket.MSG_WAITALL)

    client = Background(forge)
    with native.server(tunnel_id=tid, secret=SECRET, secret_id=sid) as server:
        assert server.run(server_sock, timeout=10) == errno.ECONNREFUSED
        assert server.status is Status.AUTH_FAILED
    assert client.result() == b"GSLA\x01" + bytes([Status.AUTH_FAILED, 0, 0])
    # the server read exactly HELLO and RESPONSE; the application bytes were not consumed
    assert server_sock.recv(len(APP_BYTES), socket.MSG_WAITALL) == APP_BYTES
