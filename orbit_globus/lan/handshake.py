"""GSLA v1 handshake as two sans-IO state machines.

The machines never touch a socket. The caller reads exactly ``bytes_needed`` bytes, hands
them to ``receive()`` and writes back whatever bytes it returns::

    client = ClientHandshake(tunnel_id=tid, secret="...", secret_id=sid)
    sock.sendall(client.start())
    while client.bytes_needed:
        sock.sendall(client.receive(read_exactly(sock, client.bytes_needed)))
    # client.state is State.ESTABLISHED: the socket now carries the application's bytes

A refusal raises :class:`RefusedByPeer` (the peer said no) or :class:`PeerMisbehaved`
(the peer's bytes or proof were wrong); a server that refuses still returns the bytes that
tell the client why, and ``closing`` says the caller should close after sending them.
"""

from __future__ import annotations

import enum
import hmac
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .messages import (
    CHALLENGE_SIZE,
    HELLO_SIZE,
    NONCE_SIZE,
    RESPONSE_SIZE,
    RESULT_SIZE,
    ZERO_UUID,
    Challenge,
    Hello,
    MalformedMessage,
    Response,
    Result,
    Role,
    Status,
    client_proof,
    server_proof,
)


class State(enum.Enum):
    SEND_HELLO = "send-hello"
    AWAIT_HELLO = "await-hello"
    AWAIT_CHALLENGE = "await-challenge"
    AWAIT_RESPONSE = "await-response"
    AWAIT_RESULT = "await-result"
    ESTABLISHED = "established"
    REFUSED = "refused"


# How many bytes each waiting state reads; every other state reads nothing.
_BYTES_NEEDED = {
    State.AWAIT_HELLO: HELLO_SIZE,
    State.AWAIT_CHALLENGE: CHALLENGE_SIZE,
    State.AWAIT_RESPONSE: RESPONSE_SIZE,
    State.AWAIT_RESULT: RESULT_SIZE,
}


class HandshakeError(Exception):
    """The handshake ended without a connection; ``status`` says why."""

    def __init__(self, message: str, status: Status) -> None:
        super().__init__(message)
        self.status = status


class RefusedByPeer(HandshakeError):
    """The other side answered with a non-OK status."""


class PeerMisbehaved(HandshakeError):
    """The other side sent malformed bytes or a wrong proof."""


@dataclass(frozen=True)
class Credential:
    """The LAN secret a server checks a client against. Never printed."""

    secret: str = ""
    secret_id: uuid.UUID = ZERO_UUID

    def __repr__(self) -> str:
        return f"Credential(secret=***, secret_id={self.secret_id})"


Lookup = Callable[[Hello], "Credential | Status"]


def new_nonce() -> bytes:
    return os.urandom(NONCE_SIZE)


def _as_uuid(value: uuid.UUID | str | None) -> uuid.UUID:
    if value is None:
        return ZERO_UUID
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class _Machine:
    state: State

    @property
    def bytes_needed(self) -> int:
        """Bytes to read before the next ``receive()``; 0 once the handshake has ended."""
        return _BYTES_NEEDED.get(self.state, 0)

    def _expect(self, state: State, data: bytes) -> None:
        if self.state is not state:
            raise RuntimeError(f"receive() in state {self.state.value}")
        if len(data) != self.bytes_needed:
            raise ValueError(f"need exactly {self.bytes_needed} bytes, got {len(data)}")


class ClientHandshake(_Machine):
    """The side that opened the TCP connection."""

    def __init__(
        self,
        *,
        tunnel_id: uuid.UUID | str,
        secret: str,
        secret_id: uuid.UUID | str | None = None,
        role: Role = Role.APPLICATION,
        nonce: bytes | None = None,
    ) -> None:
        self._key = secret.encode()
        self._hello = Hello(
            role=role,
            tunnel_id=_as_uuid(tunnel_id),
            secret_id=_as_uuid(secret_id),
            nonce=nonce if nonce is not None else new_nonce(),
        ).encode()
        self.state = State.SEND_HELLO

    def start(self) -> bytes:
        """The HELLO to send first."""
        if self.state is not State.SEND_HELLO:
            raise RuntimeError("start() called twice")
        self.state = State.AWAIT_CHALLENGE
        return self._hello

    def receive(self, data: bytes) -> bytes:
        """Feed the message just read; returns the bytes to send (possibly empty)."""
        if self.state is State.AWAIT_CHALLENGE:
            return self._on_challenge(data)
        self._expect(State.AWAIT_RESULT, data)
        return self._on_result(data)

    def _on_challenge(self, data: bytes) -> bytes:
        self._expect(State.AWAIT_CHALLENGE, data)
        challenge = self._decode(Challenge.decode, data)
        if challenge.status is not Status.OK:
            self.state = State.REFUSED
            raise RefusedByPeer(f"refused: {challenge.status.name}", challenge.status)
        expected = server_proof(self._key, self._hello, challenge.nonce)
        if not hmac.compare_digest(expected, challenge.proof):
            self.state = State.REFUSED
            raise PeerMisbehaved("server proof does not match", Status.AUTH_FAILED)
        self.state = State.AWAIT_RESULT
        return Response(client_proof(self._key, self._hello, data)).encode()

    def _on_result(self, data: bytes) -> bytes:
        result = self._decode(Result.decode, data)
        if result.status is not Status.OK:
            self.state = State.REFUSED
            raise RefusedByPeer(f"refused: {result.status.name}", result.status)
        self.state = State.ESTABLISHED
        return b""

    def _decode(self, decode: Callable[[bytes], object], data: bytes):  # type: ignore[no-untyped-def]
        try:
            return decode(data)
        except MalformedMessage as exc:
            self.state = State.REFUSED
            raise PeerMisbehaved(str(exc), exc.status) from None


class ServerHandshake(_Machine):
    """The side that accepted the TCP connection.

    ``lookup`` decides, from the client's HELLO, which credential to check it against, or
    which status to refuse it with (unknown tunnel, stale secret, tunnel not active).
    """

    def __init__(self, lookup: Lookup, *, nonce: bytes | None = None) -> None:
        self._lookup = lookup
        self._nonce = nonce if nonce is not None else new_nonce()
        self._key = b""
        self._hello = b""
        self._challenge = b""
        self.hello: Hello | None = None
        self.status: Status | None = None
        self.state = State.AWAIT_HELLO

    @property
    def closing(self) -> bool:
        """True once the caller must close after sending what ``receive()`` returned."""
        return self.state is State.REFUSED

    def receive(self, data: bytes) -> bytes:
        if self.state is State.AWAIT_HELLO:
            return self._on_hello(data)
        self._expect(State.AWAIT_RESPONSE, data)
        return self._on_response(data)

    def _on_hello(self, data: bytes) -> bytes:
        self._expect(State.AWAIT_HELLO, data)
        try:
            self.hello = Hello.decode(data)
        except MalformedMessage as exc:
            return self._refuse(exc.status)
        decision = self._lookup(self.hello)
        if isinstance(decision, Status):
            return self._refuse(decision)
        self._key = decision.secret.encode()
        self._hello = data
        proof = server_proof(self._key, data, self._nonce)
        self._challenge = Challenge(Status.OK, self._nonce, proof).encode()
        self.state = State.AWAIT_RESPONSE
        return self._challenge

    def _on_response(self, data: bytes) -> bytes:
        try:
            response = Response.decode(data)
        except MalformedMessage as exc:
            return self._finish(exc.status)
        expected = client_proof(self._key, self._hello, self._challenge)
        ok = hmac.compare_digest(expected, response.proof)
        return self._finish(Status.OK if ok else Status.AUTH_FAILED)

    def _refuse(self, status: Status) -> bytes:
        self.status = status
        self.state = State.REFUSED
        return Challenge(status).encode()

    def _finish(self, status: Status) -> bytes:
        self.status = status
        self.state = State.ESTABLISHED if status is Status.OK else State.REFUSED
        return Result(status).encode()


def lookup_for(tunnel_id: uuid.UUID | str, credential: Credential) -> Lookup:
    """A lookup for a server that knows one tunnel and its current secret."""
    tid = _as_uuid(tunnel_id)

    def lookup(hello: Hello) -> Credential | Status:
        if hello.tunnel_id != tid:
            return Status.UNKNOWN_TUNNEL
        if hello.secret_id not in (ZERO_UUID, credential.secret_id):
            return Status.STALE_SECRET
        return credential

    return lookup
