"""GSLA v1 on the access points' LAN legs, driven on the event loop.

The protocol itself is orbit_globus.lan's sans-IO machines; this module only moves their
bytes over non-blocking sockets, and knows the two handshake faults: a stalled access
point that goes silent, and a corrupted proof.
"""

from __future__ import annotations

import asyncio
import socket

from orbit_globus.lan import ClientHandshake, ServerHandshake, State, Status
from orbit_globus.lan.handshake import Lookup


async def read_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes, never more: what follows belongs to the application."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = await loop.sock_recv_into(sock, view[got:])
        if n == 0:
            raise ConnectionError(f"peer closed after {got} of {size} handshake bytes")
        got += n
    return bytes(buf)


async def drain_until_closed(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """A silent peer: read and ignore everything until the other side gives up."""
    while await loop.sock_recv(sock, 4096):
        pass


def _flip_last_byte(message: bytes) -> bytes:
    return message[:-1] + bytes((message[-1] ^ 0x01,))


async def serve(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    lookup: Lookup,
    *,
    stall: bool = False,
    corrupt: bool = False,
) -> Status:
    """The access point's side of arrow 1. Returns the final status (OK: stream open)."""
    handshake = ServerHandshake(lookup)
    while handshake.bytes_needed:
        data = await read_exactly(loop, sock, handshake.bytes_needed)
        if stall:
            await drain_until_closed(loop, sock)
            raise ConnectionError("client gave up on a stalled handshake")
        reply = handshake.receive(data)
        if corrupt and handshake.state is State.AWAIT_RESPONSE:
            reply = _flip_last_byte(reply)  # the server proof
        await loop.sock_sendall(sock, reply)
    assert handshake.status is not None
    return handshake.status


async def connect(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    handshake: ClientHandshake,
    *,
    stall: bool = False,
    corrupt: bool = False,
) -> None:
    """The access point's side of arrow 3; raises HandshakeError when refused."""
    if stall:
        await drain_until_closed(loop, sock)
        raise ConnectionError("listener gave up on a stalled handshake")
    await loop.sock_sendall(sock, handshake.start())
    while handshake.bytes_needed:
        reply = handshake.receive(await read_exactly(loop, sock, handshake.bytes_needed))
        if reply:
            await loop.sock_sendall(sock, _flip_last_byte(reply) if corrupt else reply)
