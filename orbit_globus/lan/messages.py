"""GSLA v1 wire messages: fixed-size frames, encoded and decoded without any I/O.

Every message starts with the magic ``b"GSLA"`` and the version byte. Sizes are fixed so a
peer reads exactly one message and never a byte of the application's stream.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import uuid
from dataclasses import dataclass

MAGIC = b"GSLA"
VERSION = 1
NONCE_SIZE = 32
PROOF_SIZE = 32

HELLO_SIZE = 72
CHALLENGE_SIZE = 72
RESPONSE_SIZE = 40
RESULT_SIZE = 8

SERVER_LABEL = b"GSLA1/server"
CLIENT_LABEL = b"GSLA1/client"

ZERO_NONCE = bytes(NONCE_SIZE)
ZERO_PROOF = bytes(PROOF_SIZE)
ZERO_UUID = uuid.UUID(int=0)


class Role(enum.IntEnum):
    """Who opened the LAN connection."""

    APPLICATION = 1
    ACCESS_POINT = 2


class Status(enum.IntEnum):
    OK = 0
    AUTH_FAILED = 1
    UNKNOWN_TUNNEL = 2
    TUNNEL_NOT_ACTIVE = 3
    UNSUPPORTED_VERSION = 4
    STALE_SECRET = 5
    BAD_MESSAGE = 6
    INTERNAL = 255


class MalformedMessage(ValueError):
    """The bytes are not the message they should be; carries the status to answer with."""

    def __init__(self, message: str, status: Status = Status.BAD_MESSAGE) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Hello:
    role: Role
    tunnel_id: uuid.UUID
    secret_id: uuid.UUID
    nonce: bytes

    def encode(self) -> bytes:
        return _header(int(self.role)) + self.tunnel_id.bytes + self.secret_id.bytes + self.nonce

    @classmethod
    def decode(cls, data: bytes) -> Hello:
        second = _check_header(data, HELLO_SIZE)
        try:
            role = Role(second)
        except ValueError:
            raise MalformedMessage(f"unknown role {second}") from None
        return cls(
            role=role,
            tunnel_id=uuid.UUID(bytes=data[8:24]),
            secret_id=uuid.UUID(bytes=data[24:40]),
            nonce=data[40:72],
        )


@dataclass(frozen=True)
class Challenge:
    status: Status
    nonce: bytes = ZERO_NONCE
    proof: bytes = ZERO_PROOF

    def encode(self) -> bytes:
        return _header(int(self.status)) + self.nonce + self.proof

    @classmethod
    def decode(cls, data: bytes) -> Challenge:
        status = _status(_check_header(data, CHALLENGE_SIZE))
        return cls(status=status, nonce=data[8:40], proof=data[40:72])


@dataclass(frozen=True)
class Response:
    proof: bytes

    def encode(self) -> bytes:
        return _header(0) + self.proof

    @classmethod
    def decode(cls, data: bytes) -> Response:
        _check_header(data, RESPONSE_SIZE, first_reserved=5)
        return cls(proof=data[8:40])


@dataclass(frozen=True)
class Result:
    status: Status

    def encode(self) -> bytes:
        return _header(int(self.status))

    @classmethod
    def decode(cls, data: bytes) -> Result:
        return cls(status=_status(_check_header(data, RESULT_SIZE)))


def server_proof(secret: bytes, hello: bytes, server_nonce: bytes) -> bytes:
    return hmac.new(secret, SERVER_LABEL + hello + server_nonce, hashlib.sha256).digest()


def client_proof(secret: bytes, hello: bytes, challenge: bytes) -> bytes:
    return hmac.new(secret, CLIENT_LABEL + hello + challenge, hashlib.sha256).digest()


def _header(second: int) -> bytes:
    # magic, version, then one meaningful byte (role or status) and two zero bytes
    return MAGIC + bytes((VERSION, second, 0, 0))


HEADER_SIZE = 8


def _check_header(data: bytes, size: int, first_reserved: int = 6) -> int:
    """Validate length, magic, version and the reserved (zero) header bytes from
    `first_reserved` on (SPEC 4: a non-zero one is BAD_MESSAGE); return byte 5."""
    if len(data) != size:
        raise MalformedMessage(f"expected {size} bytes, got {len(data)}")
    if data[:4] != MAGIC:
        raise MalformedMessage("bad magic")
    if data[4] != VERSION:
        raise MalformedMessage(f"unsupported version {data[4]}", Status.UNSUPPORTED_VERSION)
    if any(data[first_reserved:HEADER_SIZE]):
        raise MalformedMessage("non-zero reserved byte")
    return data[5]


def _status(value: int) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise MalformedMessage(f"unknown status {value}") from None
