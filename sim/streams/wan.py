"""The WAN leg (arrow 2) between the access points: TCP, mutually authenticated TLS by
default, plain TCP for speed tests. The first 16 bytes the initiator sends name the
tunnel (its UUID's raw bytes); after them the leg carries the application's bytes."""

from __future__ import annotations

import asyncio
import socket
import ssl

PREAMBLE_SIZE = 16


async def _ready(loop: asyncio.AbstractEventLoop, fd: int, write: bool) -> None:
    future = loop.create_future()
    add, remove = (
        (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
    )
    add(fd, lambda: future.done() or future.set_result(None))
    try:
        await future
    finally:
        remove(fd)


async def tls_handshake(loop: asyncio.AbstractEventLoop, sock: ssl.SSLSocket) -> None:
    while True:
        try:
            sock.do_handshake()
            return
        except ssl.SSLWantReadError:
            await _ready(loop, sock.fileno(), write=False)
        except ssl.SSLWantWriteError:
            await _ready(loop, sock.fileno(), write=True)


async def send_all(loop: asyncio.AbstractEventLoop, sock: socket.socket, data: bytes) -> None:
    if not isinstance(sock, ssl.SSLSocket):
        await loop.sock_sendall(sock, data)
        return
    while data:
        try:
            data = data[sock.send(data) :]
        except ssl.SSLWantWriteError:
            await _ready(loop, sock.fileno(), write=True)
        except ssl.SSLWantReadError:
            await _ready(loop, sock.fileno(), write=False)


async def recv_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        try:
            chunk = sock.recv(size - len(buf))
        except (BlockingIOError, ssl.SSLWantReadError):
            await _ready(loop, sock.fileno(), write=False)
            continue
        except ssl.SSLWantWriteError:
            await _ready(loop, sock.fileno(), write=True)
            continue
        if not chunk:
            raise ConnectionError("WAN peer closed before the preamble")
        buf += chunk
    return bytes(buf)


def new_tcp_socket(family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
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
