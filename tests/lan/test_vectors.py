"""The Python GSLA implementation reproduces every byte-exact vector."""

import uuid

import pytest

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    RefusedByPeer,
    Role,
    ServerHandshake,
    State,
    Status,
    lookup_for,
)
from tests.conftest import load_vectors

VECTORS = load_vectors()
AUTH_VECTORS = [v for v in VECTORS if "lan_secret" in v]
REFUSAL_VECTORS = [v for v in VECTORS if "lan_secret" not in v]


def _client(v: dict, secret: str | None = None) -> ClientHandshake:
    return ClientHandshake(
        tunnel_id=v["tunnel_id"],
        secret=secret if secret is not None else v.get("lan_secret", ""),
        secret_id=v["lan_secret_id"],
        role=Role(v["role"]),
        nonce=bytes.fromhex(v["client_nonce"]),
    )


def _server(v: dict, tunnel_id: str | None = None) -> ServerHandshake:
    credential = Credential(v.get("lan_secret", ""), uuid.UUID(v["lan_secret_id"]))
    return ServerHandshake(
        lookup_for(tunnel_id or v["tunnel_id"], credential),
        nonce=bytes.fromhex(v.get("server_nonce", "00" * 32)),
    )


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_client_produces_vector_bytes(v: dict) -> None:
    client = _client(v)
    assert client.start().hex() == v["hello"]
    assert client.receive(bytes.fromhex(v["challenge"])).hex() == v["response"]
    assert client.receive(bytes.fromhex(v["result_ok"])) == b""
    assert client.state is State.ESTABLISHED


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_server_produces_vector_bytes(v: dict) -> None:
    server = _server(v)
    assert server.receive(bytes.fromhex(v["hello"])).hex() == v["challenge"]
    assert server.receive(bytes.fromhex(v["response"])).hex() == v["result_ok"]
    assert server.state is State.ESTABLISHED


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_server_refuses_wrong_secret_response(v: dict) -> None:
    server = _server(v)
    server.receive(bytes.fromhex(v["hello"]))
    assert (
        server.receive(bytes.fromhex(v["wrong_secret_response"])).hex() == v["result_auth_failed"]
    )
    assert server.closing and server.status is Status.AUTH_FAILED


@pytest.mark.parametrize("v", REFUSAL_VECTORS, ids=lambda v: v["name"])
def test_unknown_tunnel_refused_at_challenge(v: dict) -> None:
    server = _server(v, tunnel_id=str(uuid.uuid4()))
    assert server.receive(bytes.fromhex(v["hello"])).hex() == v["challenge"]
    assert server.closing and server.status is Status.UNKNOWN_TUNNEL

    client = _client(v)
    assert client.start().hex() == v["hello"]
    with pytest.raises(RefusedByPeer) as err:
        client.receive(bytes.fromhex(v["challenge"]))
    assert err.value.status is Status.UNKNOWN_TUNNEL
