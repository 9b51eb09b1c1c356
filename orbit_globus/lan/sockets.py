"""Run a GSLA handshake over a blocking socket: the only I/O around the state machines."""

from __future__ import annotations

import socket
import time

from .handshake import ClientHandshake, HandshakeError, ServerHandshake
from .messages import Status

DEFAULT_TIMEOUT = 10.0


class HandshakeTimeout(HandshakeError):
    """The peer did not answer within the handshake limit."""

    def __init__(self) -> None:
        super().__init__("no answer within the handshake timeout", Status.INTERNAL)


def read_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    """Read exactly ``size`` bytes (never more: the rest is the application's)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HandshakeTimeout()
        sock.settimeout(left)
        try:
            chunk = sock.recv(remaining)
        except TimeoutError:
            raise HandshakeTimeout() from None
        if not chunk:
            raise ConnectionError(f"peer closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def client_handshake(
    sock: socket.socket, handshake: ClientHandshake, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Authenticate as client; raises HandshakeError or ConnectionError on failure."""
    deadline = time.monotonic() + timeout
    previous = sock.gettimeout()
    try:
        sock.sendall(handshake.start())
        while handshake.bytes_needed:
            reply = handshake.receive(read_exactly(sock, handshake.bytes_needed, deadline))
            if reply:
                sock.sendall(reply)
    finally:
        sock.settimeout(previous)


def server_handshake(
    sock: socket.socket, handshake: ServerHandshake, timeout: float = DEFAULT_TIMEOUT
) -> Status:
    """Authenticate a client; returns the final status (OK means the stream is open)."""
    deadline = time.monotonic() + timeout
    previous = sock.gettimeout()
    try:
        while handshake.bytes_needed:
            sock.sendall(handshake.receive(read_exactly(sock, handshake.bytes_needed, deadline)))
    finally:
        sock.settimeout(previous)
    assert handshake.status is not None
    return handshake.status
