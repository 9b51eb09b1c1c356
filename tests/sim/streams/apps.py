"""The applications at both ends of a tunnel in these tests.

`ListenerApp` is the listening application: a loopback server on its own event loop that
authenticates the listener access point with GSLA (server side) and then runs a behaviour
(echo, hash what arrives, ...). The initiating application is a plain blocking socket
that authenticates with `orbit_globus.lan` (or the C library through ctypes).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    Role,
    ServerHandshake,
    Status,
    client_handshake,
    lookup_for,
)

Behaviour = Callable[[asyncio.AbstractEventLoop, socket.socket, "ListenerApp"], "asyncio.Future"]


async def _read_exactly(loop: asyncio.AbstractEventLoop, sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = await loop.sock_recv(sock, n - len(buf))
        if not chunk:
            raise ConnectionError("closed during handshake")
        buf += chunk
    return buf


async def echo(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp) -> None:
    while data := await loop.sock_recv(sock, 256 * 1024):
        app.count(len(data))
        await loop.sock_sendall(sock, data)
    sock.shutdown(socket.SHUT_WR)


async def digest(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp) -> None:
    """Hash everything until the half-close, then answer with the SHA-256 digest."""
    hasher = hashlib.sha256()
    buf = bytearray(1 << 20)
    while n := await loop.sock_recv_into(sock, buf):
        hasher.update(memoryview(buf)[:n])
        app.count(n)
    await loop.sock_sendall(sock, hasher.digest())
    sock.shutdown(socket.SHUT_WR)


async def source(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp) -> None:
    """On an 8-byte size request, send that many bytes of numbered blocks, then close."""
    size = int.from_bytes(await _read_exactly(loop, sock, 8), "big")
    for block in numbered_blocks(size, seed=b"downstream"):
        await loop.sock_sendall(sock, block)
    sock.shutdown(socket.SHUT_WR)


@dataclass
class ListenerApp:
    """Listening application; `credential=None` means it does not authenticate (no GSLA)."""

    tunnel_id: str | None = None
    credential: Credential | None = None
    behaviour: Behaviour = echo
    handshake_timeout: float = 5.0
    address: tuple[str, int] = ("127.0.0.1", 0)
    statuses: list[Status] = field(default_factory=list)
    received: int = 0
    accepted: int = 0
    open: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, n: int) -> None:
        self.received += n

    def __enter__(self) -> ListenerApp:
        self._loop = asyncio.new_event_loop()
        self._server = socket.create_server(("127.0.0.1", 0), backlog=4096)
        self._server.setblocking(False)
        self.address = self._server.getsockname()[:2]
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server.fileno() < 0:
            return  # already stopped
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._server.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.add_reader(self._server.fileno(), self._accept)
        try:
            self._loop.run_forever()
        finally:
            for task in self._tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._server.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            self.accepted += 1
            self.open += 1
            task = self._loop.create_task(self._serve(sock))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, sock: socket.socket) -> None:
        try:
            if self.credential is not None:
                handshake = ServerHandshake(lookup_for(str(self.tunnel_id), self.credential))
                async with asyncio.timeout(self.handshake_timeout):
                    while handshake.bytes_needed:
                        data = await _read_exactly(self._loop, sock, handshake.bytes_needed)
                        await self._loop.sock_sendall(sock, handshake.receive(data))
                self.statuses.append(handshake.status)
                if handshake.status is not Status.OK:
                    return
            await self.behaviour(self._loop, sock, self)
        except (OSError, TimeoutError) as exc:
            self.errors.append(type(exc).__name__)
        finally:
            self.open -= 1
            sock.close()

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True once every accepted connection has ended."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open == 0


async def hold(loop: asyncio.AbstractEventLoop, sock: socket.socket, app: ListenerApp) -> None:
    """Keep the connection open, counting what arrives, until the other side ends it."""
    while data := await loop.sock_recv(sock, 65536):
        app.count(len(data))


def gsla_connect(
    address: tuple[str, int],
    tunnel_id: str,
    credential: Credential | None,
    timeout: float = 10.0,
) -> socket.socket:
    """The initiating application: connect and authenticate (no GSLA without a credential)."""
    sock = socket.create_connection(address, timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if credential is not None:
        try:
            client_handshake(
                sock,
                ClientHandshake(
                    tunnel_id=tunnel_id,
                    secret=credential.secret,
                    secret_id=credential.secret_id,
                    role=Role.APPLICATION,
                ),
                timeout,
            )
        except BaseException:
            sock.close()
            raise
    return sock


def numbered_blocks(total: int, block: int = 1 << 20, seed: bytes = b"orbit") -> bytes:
    """Yield `total` bytes in blocks that all differ (a counter in each block's head)."""
    base = bytearray(hashlib.sha256(seed).digest() * (block // 32))
    for index in range(total // block):
        struct.pack_into("<Q", base, 0, index)
        yield bytes(base)


def echo_through(sock: socket.socket, total: int, end: bool = False) -> tuple[bytes, bytes]:
    """Send `total` bytes and read the echo at the same time: (sent, received) SHA-256.
    With `end`, half-close after sending and read up to the echo's end of stream."""
    sent, received = hashlib.sha256(), hashlib.sha256()

    def send() -> None:
        for block in numbered_blocks(total, block=256 * 1024):
            sent.update(block)
            sock.sendall(block)
        if end:
            sock.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    got = 0
    buf = bytearray(1 << 20)
    while (end or got < total) and (n := sock.recv_into(buf)):
        received.update(memoryview(buf)[:n])
        got += n
    sender.join()
    return sent.digest(), received.digest()


def echo_exactly(sock: socket.socket, total: int, end: bool = False) -> None:
    """`echo_through`, asserting the echo equals what was sent."""
    sent, received = echo_through(sock, total, end)
    assert sent == received, "the echo differs from what was sent"


def recv_all(sock: socket.socket, limit: int = 1 << 30) -> bytes:
    chunks = []
    size = 0
    while size < limit:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def wait_until(condition: Callable[[], bool], what: str = "condition", timeout: float = 10) -> None:
    """Wait for `condition` (polled every 10 ms); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def assert_closed_since(before: set[str]) -> None:
    """Every descriptor opened since `before` was taken is closed (within 10 s)."""
    deadline = time.monotonic() + 10
    while (left := open_fds() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in left if fd}
