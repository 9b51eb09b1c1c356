"""The WAN leg (arrow 2) between the access points: TCP, mutually authenticated TLS by
default, plain TCP for speed tests. The first 16 bytes the initiator sends name the
tunnel (its UUID's raw bytes); after them the leg carries the application's bytes. Over
TLS, bytes travel in frames and each direction ends with an end-of-stream frame, after
which the connection can carry the next tunnel connection (`tlsio.py`)."""

from __future__ import annotations

import asyncio
import socket
import ssl

from .sockopts import tune_relay_socket
from .tlsio import TlsChannel

PREAMBLE_SIZE = 16

Stream = socket.socket | TlsChannel


async def ready(loop: asyncio.AbstractEventLoop, fd: int, write: bool) -> None:
    future = loop.create_future()
    add, remove = (
        (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
    )
    add(fd, lambda: future.done() or future.set_result(None))
    try:
        await future
    finally:
        remove(fd)


async def _flush(loop: asyncio.AbstractEventLoop, channel: TlsChannel) -> None:
    while not channel.flush():
        await ready(loop, channel.fileno(), write=True)


async def tls_handshake(loop: asyncio.AbstractEventLoop, channel: TlsChannel) -> None:
    while True:
        try:
            channel.tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        channel.take_ciphertext()
        await _flush(loop, channel)
        if done:
            return
        try:
            channel.feed()
        except BlockingIOError:
            await ready(loop, channel.fileno(), write=False)


async def receive_ticket(loop: asyncio.AbstractEventLoop, channel: TlsChannel) -> None:
    """On the client after a full handshake: read the session ticket the server sends
    right after it (the listener access point sends nothing else before the preamble)."""
    probe = bytearray(1)
    while True:
        try:
            if channel.tls.read(1, probe):
                raise ConnectionError("WAN peer sent data before the preamble")
            raise ConnectionError("WAN peer closed during the handshake")
        except ssl.SSLWantReadError:
            pass
        session = channel.session
        if session is not None and session.has_ticket:
            return
        try:
            channel.feed()
        except BlockingIOError:
            await ready(loop, channel.fileno(), write=False)


async def send_all(loop: asyncio.AbstractEventLoop, stream: Stream, data: bytes) -> None:
    if isinstance(stream, socket.socket):
        await loop.sock_sendall(stream, data)
        return
    await _flush(loop, stream)
    stream.send(data)
    await _flush(loop, stream)


async def recv_exactly(loop: asyncio.AbstractEventLoop, stream: Stream, size: int) -> bytes:
    """Exactly `size` bytes; a TLS channel may read further records into OpenSSL, which
    its pump then finds there."""
    buf = bytearray()
    while len(buf) < size:
        try:
            chunk = stream.recv(size - len(buf))
        except BlockingIOError:
            await ready(loop, stream.fileno(), write=False)
            continue
        if not chunk:
            raise ConnectionError("WAN peer closed before the preamble")
        buf += chunk
    return bytes(buf)


def new_tcp_socket(family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    tune_relay_socket(sock)
    return sock


async def open_tcp(loop: asyncio.AbstractEventLoop, address: tuple[str, int]) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = new_tcp_socket(family)
    try:
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock
