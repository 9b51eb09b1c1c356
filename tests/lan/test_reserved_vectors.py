"""Reserved header bytes (SPEC 4): every vector of tests/data/lan-auth-vectors-reserved.json
against both GSLA implementations, Python (orbit_globus.lan) and C (the test library via
ctypes). A non-zero reserved byte is a BAD_MESSAGE on either side."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    PeerMisbehaved,
    Role,
    ServerHandshake,
    Status,
    lookup_for,
)
from orbit_globus.native import InterceptLibrary, MachineState, Refusal

DATA = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "lan-auth-vectors-reserved.json").read_text()
)
BASE = DATA["base"]
SERVER_VECTORS = [v for v in DATA["vectors"] if v["receiver"] == "server"]
CLIENT_VECTORS = [v for v in DATA["vectors"] if v["receiver"] == "client"]


def _nonce(key: str) -> bytes:
    return bytes.fromhex(BASE[key])


@pytest.fixture(scope="module")
def native() -> InterceptLibrary:
    return InterceptLibrary()


def test_every_reserved_byte_is_covered() -> None:
    covered = {v["name"].split(" non-zero")[0] for v in DATA["vectors"]}
    expected = {f"HELLO byte {i}" for i in (6, 7)} | {f"CHALLENGE byte {i}" for i in (6, 7)}
    expected |= {f"RESPONSE byte {i}" for i in (5, 6, 7)} | {f"RESULT byte {i}" for i in (6, 7)}
    assert covered == expected


@pytest.mark.parametrize("v", SERVER_VECTORS, ids=lambda v: v["name"])
def test_python_server_answers_bad_message(v: dict) -> None:
    credential = Credential(BASE["lan_secret"], uuid.UUID(BASE["lan_secret_id"]))
    server = ServerHandshake(
        lookup_for(BASE["tunnel_id"], credential), nonce=_nonce("server_nonce")
    )
    answer = server.receive(bytes.fromhex(v["hello"]))
    if "response" in v:
        assert answer.hex() == BASE["challenge"]
        answer = server.receive(bytes.fromhex(v["response"]))
    assert answer.hex() == v["answer"]
    assert server.closing and server.status == Status(v["status"])


@pytest.mark.parametrize("v", SERVER_VECTORS, ids=lambda v: v["name"])
def test_c_server_answers_bad_message(native: InterceptLibrary, v: dict) -> None:
    with native.server(
        tunnel_id=BASE["tunnel_id"],
        secret=BASE["lan_secret"],
        secret_id=BASE["lan_secret_id"],
        nonce=_nonce("server_nonce"),
    ) as server:
        answer = server.receive(bytes.fromhex(v["hello"]))
        if "response" in v:
            assert answer.hex() == BASE["challenge"]
            answer = server.receive(bytes.fromhex(v["response"]))
        assert answer.hex() == v["answer"]
        assert server.state is MachineState.REFUSED
        assert server.status == Status(v["status"])


def _python_client() -> ClientHandshake:
    client = ClientHandshake(
        tunnel_id=BASE["tunnel_id"],
        secret=BASE["lan_secret"],
        secret_id=BASE["lan_secret_id"],
        role=Role(BASE["role"]),
        nonce=_nonce("client_nonce"),
    )
    assert client.start().hex() == BASE["hello"]
    return client


@pytest.mark.parametrize("v", CLIENT_VECTORS, ids=lambda v: v["name"])
def test_python_client_refuses(v: dict) -> None:
    client = _python_client()
    with pytest.raises(PeerMisbehaved) as refused:
        assert client.receive(bytes.fromhex(v["challenge"])).hex() == BASE["response"]
        client.receive(bytes.fromhex(v["result"]))
    assert refused.value.status == Status(v["status"])


@pytest.mark.parametrize("v", CLIENT_VECTORS, ids=lambda v: v["name"])
def test_c_client_refuses(native: InterceptLibrary, v: dict) -> None:
    with native.client(
        tunnel_id=BASE["tunnel_id"],
        secret=BASE["lan_secret"],
        secret_id=BASE["lan_secret_id"],
        role=Role(BASE["role"]),
        nonce=_nonce("client_nonce"),
    ) as client:
        assert client.start().hex() == BASE["hello"]
        reply = client.receive(bytes.fromhex(v["challenge"]))
        if "result" in v:
            assert reply.hex() == BASE["response"]
            client.receive(bytes.fromhex(v["result"]))
        assert client.state is MachineState.REFUSED
        assert client.status == Status(v["status"])
        assert client.refusal is Refusal.PEER_MISBEHAVED
