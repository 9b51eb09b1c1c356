"""The sans-IO state machines: refusals, malformed input, and a real socket pair."""

import socket
import threading
import uuid

import pytest

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    HandshakeTimeout,
    PeerMisbehaved,
    RefusedByPeer,
    ServerHandshake,
    State,
    Status,
    client_handshake,
    lookup_for,
    server_handshake,
)
from orbit_globus.lan.messages import CHALLENGE_SIZE, HELLO_SIZE

TUNNEL = uuid.uuid4()
SECRET_ID = uuid.uuid4()
SECRET = "k=ey/with=equals"


def _server(secret: str = SECRET, secret_id: uuid.UUID = SECRET_ID) -> ServerHandshake:
    return ServerHandshake(lookup_for(TUNNEL, Credential(secret, secret_id)))


def _client(secret: str = SECRET, secret_id: uuid.UUID | None = SECRET_ID) -> ClientHandshake:
    return ClientHandshake(tunnel_id=TUNNEL, secret=secret, secret_id=secret_id)


def _run(client: ClientHandshake, server: ServerHandshake) -> None:
    """Drive both machines in memory until one side refuses or both are done."""
    server_out = server.receive(client.start())
    client_out = client.receive(server_out)
    client.receive(server.receive(client_out))


def test_matching_secrets_establish_both_sides() -> None:
    client, server = _client(), _server()
    _run(client, server)
    assert client.state is server.state is State.ESTABLISHED
    assert client.bytes_needed == server.bytes_needed == 0


def test_unknown_secret_id_is_accepted_when_the_secret_matches() -> None:
    client, server = _client(secret_id=None), _server()
    _run(client, server)
    assert server.status is Status.OK


def test_client_detects_server_with_wrong_secret() -> None:
    # The client checks the server's proof before proving anything itself.
    client, server = _client(), _server(secret="other")
    with pytest.raises(PeerMisbehaved) as err:
        _run(client, server)
    assert err.value.status is Status.AUTH_FAILED
    assert client.state is State.REFUSED


def test_stale_secret_id_refused_at_challenge() -> None:
    client, server = _client(secret_id=uuid.uuid4()), _server()
    with pytest.raises(RefusedByPeer) as err:
        _run(client, server)
    assert err.value.status is Status.STALE_SECRET
    assert server.closing


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda b: b"XSLA" + b[4:], Status.BAD_MESSAGE),
        (lambda b: b[:4] + b"\x02" + b[5:], Status.UNSUPPORTED_VERSION),
        (lambda b: b[:5] + b"\x07" + b[6:], Status.BAD_MESSAGE),
    ],
    ids=["bad-magic", "bad-version", "bad-role"],
)
def test_malformed_hello_refused(mutate, status: Status) -> None:
    server = _server()
    reply = server.receive(mutate(_client().start()))
    assert len(reply) == CHALLENGE_SIZE and reply[5] == status
    assert server.closing and server.status is status


def test_secret_never_in_repr_or_errors() -> None:
    assert SECRET not in repr(Credential(SECRET, SECRET_ID))
    client, server = _client(), _server(secret="other")
    with pytest.raises(PeerMisbehaved) as err:
        _run(client, server)
    assert SECRET not in str(err.value) and "other" not in str(err.value)


def test_receive_demands_exact_sizes() -> None:
    server = _server()
    with pytest.raises(ValueError):
        server.receive(b"GSLA")
    assert server.bytes_needed == HELLO_SIZE


def _serve_once(listener: socket.socket, server: ServerHandshake, result: dict) -> None:
    conn, _ = listener.accept()
    with conn:
        try:
            result["status"] = server_handshake(conn, server, timeout=5)
            if result["status"] is Status.OK:
                result["data"] = conn.recv(100)
                conn.sendall(b"pong")
        except Exception as exc:  # recorded for the assertion in the test thread
            result["error"] = exc


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_socket_runner_round_trip_leaves_application_bytes(family: int) -> None:
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    with socket.socket(family) as listener:
        listener.bind((host, 0))
        listener.listen()
        result: dict = {}
        t = threading.Thread(target=_serve_once, args=(listener, _server(), result))
        t.start()
        with socket.create_connection(listener.getsockname()[:2]) as sock:
            # The application's first bytes ride right behind the handshake.
            client_handshake(sock, _client(), timeout=5)
            sock.sendall(b"ping")
            assert sock.recv(100) == b"pong"
        t.join(5)
    assert result == {"status": Status.OK, "data": b"ping"}


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with (
            socket.create_connection(listener.getsockname()) as sock,
            pytest.raises(HandshakeTimeout),
        ):
            client_handshake(sock, _client(), timeout=0.2)
