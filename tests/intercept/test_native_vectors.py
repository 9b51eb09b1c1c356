"""The C implementation (through ctypes) reproduces every byte-exact GSLA vector, and its
SHA-256/HMAC agree with hashlib."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from orbit_globus.lan import Role, Status
from orbit_globus.native import InterceptLibrary, MachineState, Refusal
from tests.conftest import load_vectors

VECTORS = load_vectors()
AUTH_VECTORS = [v for v in VECTORS if "lan_secret" in v]
REFUSAL_VECTORS = [v for v in VECTORS if "lan_secret" not in v]


def _client(native: InterceptLibrary, v: dict, secret: str | None = None):  # type: ignore[no-untyped-def]
    return native.client(
        tunnel_id=v["tunnel_id"],
        secret=secret if secret is not None else v.get("lan_secret", ""),
        secret_id=v["lan_secret_id"],
        role=Role(v["role"]),
        nonce=bytes.fromhex(v["client_nonce"]),
    )


def _server(native: InterceptLibrary, v: dict, tunnel_id: str | None = None):  # type: ignore[no-untyped-def]
    return native.server(
        tunnel_id=tunnel_id or v["tunnel_id"],
        secret=v.get("lan_secret", ""),
        secret_id=v["lan_secret_id"],
        nonce=bytes.fromhex(v.get("server_nonce", "00" * 32)),
    )


def test_version_names_the_protocol(native: InterceptLibrary) -> None:
    assert "GSLA v1" in native.version()


@pytest.mark.parametrize("size", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 4096])
def test_sha256_matches_hashlib(native: InterceptLibrary, size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    assert native.sha256(data[:size]) == hashlib.sha256(data[:size]).digest()


@pytest.mark.parametrize("key_size", [0, 1, 32, 63, 64, 65, 200])
def test_hmac_matches_hashlib(native: InterceptLibrary, key_size: int) -> None:
    key = bytes((i * 7) % 256 for i in range(key_size))
    message = b"GSLA1/server" + bytes(range(100))
    assert native.hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).digest()


def test_constant_time_compare(native: InterceptLibrary) -> None:
    assert native.ct_equal(b"a" * 32, b"a" * 32)
    assert not native.ct_equal(b"a" * 32, b"a" * 31 + b"b")


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_client_produces_vector_bytes(native: InterceptLibrary, v: dict) -> None:
    with _client(native, v) as client:
        assert client.start().hex() == v["hello"]
        assert client.bytes_needed == 72
        assert client.receive(bytes.fromhex(v["challenge"])).hex() == v["response"]
        assert client.receive(bytes.fromhex(v["result_ok"])) == b""
        assert client.state is MachineState.ESTABLISHED
        assert client.bytes_needed == 0


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_server_produces_vector_bytes(native: InterceptLibrary, v: dict) -> None:
    with _server(native, v) as server:
        assert server.receive(bytes.fromhex(v["hello"])).hex() == v["challenge"]
        assert server.receive(bytes.fromhex(v["response"])).hex() == v["result_ok"]
        assert server.state is MachineState.ESTABLISHED
        assert server.status is Status.OK


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_server_rejects_wrong_secret_response(native: InterceptLibrary, v: dict) -> None:
    with _server(native, v) as server:
        server.receive(bytes.fromhex(v["hello"]))
        assert (
            server.receive(bytes.fromhex(v["wrong_secret_response"])).hex()
            == v["result_auth_failed"]
        )
        assert server.state is MachineState.REFUSED
        assert server.status is Status.AUTH_FAILED


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_client_with_wrong_secret_refuses_the_server_proof(
    native: InterceptLibrary, v: dict
) -> None:
    with _client(native, v, secret="not the secret") as client:
        client.start()
        assert client.receive(bytes.fromhex(v["challenge"])) == b""  # its proof is never sent
        assert client.state is MachineState.REFUSED
        assert client.status is Status.AUTH_FAILED
        assert client.refusal is Refusal.PEER_MISBEHAVED


@pytest.mark.parametrize("v", AUTH_VECTORS, ids=lambda v: v["name"])
def test_client_reports_auth_failed_result(native: InterceptLibrary, v: dict) -> None:
    with _client(native, v) as client:
        client.start()
        client.receive(bytes.fromhex(v["challenge"]))
        client.receive(bytes.fromhex(v["result_auth_failed"]))
        assert client.state is MachineState.REFUSED
        assert client.status is Status.AUTH_FAILED
        assert client.refusal is Refusal.REFUSED_BY_PEER


@pytest.mark.parametrize("v", REFUSAL_VECTORS, ids=lambda v: v["name"])
def test_server_refuses_unknown_tunnel_at_challenge(native: InterceptLibrary, v: dict) -> None:
    other = str(uuid.uuid4())
    with native.server(tunnel_id=other, secret="x", secret_id=uuid.uuid4()) as server:
        assert server.receive(bytes.fromhex(v["hello"])).hex() == v["challenge"]
        assert server.status is Status.UNKNOWN_TUNNEL
        assert server.bytes_needed == 0


@pytest.mark.parametrize("v", REFUSAL_VECTORS, ids=lambda v: v["name"])
def test_client_reads_unknown_tunnel_refusal(native: InterceptLibrary, v: dict) -> None:
    with _client(native, v) as client:
        assert client.start().hex() == v["hello"]
        assert client.receive(bytes.fromhex(v["challenge"])) == b""
        assert client.status is Status.UNKNOWN_TUNNEL
        assert client.refusal is Refusal.REFUSED_BY_PEER


def test_server_refuses_stale_secret_id(native: InterceptLibrary) -> None:
    v = AUTH_VECTORS[0]
    with native.server(tunnel_id=v["tunnel_id"], secret="x", secret_id=uuid.uuid4()) as server:
        reply = server.receive(bytes.fromhex(v["hello"]))
        assert reply[5] == Status.STALE_SECRET
        assert reply[8:] == bytes(64)


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda h: b"GSLB" + h[4:], Status.BAD_MESSAGE),
        (lambda h: h[:4] + b"\x02" + h[5:], Status.UNSUPPORTED_VERSION),
        (lambda h: h[:5] + b"\x07" + h[6:], Status.BAD_MESSAGE),
    ],
    ids=["bad-magic", "bad-version", "bad-role"],
)
def test_server_refuses_malformed_hello(native: InterceptLibrary, mutate, status: Status) -> None:  # type: ignore[no-untyped-def]
    v = AUTH_VECTORS[0]
    with _server(native, v) as server:
        reply = server.receive(mutate(bytes.fromhex(v["hello"])))
        assert reply[:5] == b"GSLA\x01" and reply[5] == status
        assert server.state is MachineState.REFUSED
