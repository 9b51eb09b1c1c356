"""Volume through a tunnel: 1 GiB each way with matching SHA-256, 1,000 connections at once."""

from __future__ import annotations

import asyncio
import hashlib
import resource
import socket
from collections.abc import Iterator

import pytest

from orbit_globus.lan import ClientHandshake, Role

from .apps import ListenerApp, digest, gsla_connect, numbered_blocks, source
from .conftest import StreamWorld, TunnelRig

GIB = 1 << 30


def test_one_gib_upstream_with_matching_sha256(tls_streams: StreamWorld) -> None:
    rig = tls_streams.tunnel(ListenerApp(behaviour=digest))
    sent = hashlib.sha256()
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=120) as sock:
        for block in numbered_blocks(GIB):
            sent.update(block)
            sock.sendall(block)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(64) == sent.digest()
    assert rig.app.received == GIB


def test_one_gib_downstream_with_matching_sha256(plain_streams: StreamWorld) -> None:
    rig = plain_streams.tunnel(ListenerApp(behaviour=source))
    expected = hashlib.sha256()
    for block in numbered_blocks(GIB, seed=b"downstream"):
        expected.update(block)
    got = hashlib.sha256()
    received = 0
    buf = bytearray(1 << 20)
    with gsla_connect(rig.address, rig.id, rig.initiator, timeout=120) as sock:
        sock.sendall(GIB.to_bytes(8, "big"))
        while n := sock.recv_into(buf):
            got.update(memoryview(buf)[:n])
            received += n
    assert received == GIB and got.digest() == expected.digest()


@pytest.fixture
def many_files() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 16384)
    if wanted < 8000:
        pytest.skip(f"needs ~8000 file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def _echo_many(rig: TunnelRig, count: int, size: int) -> list[bool]:
    all_open = asyncio.Event()
    connected = 0

    async def one(index: int) -> bool:
        nonlocal connected
        reader, writer = await asyncio.open_connection(*rig.address)
        try:
            handshake = ClientHandshake(
                tunnel_id=rig.id,
                secret=rig.initiator.secret,
                secret_id=rig.initiator.secret_id,
                role=Role.APPLICATION,
            )
            writer.write(handshake.start())
            while handshake.bytes_needed:
                writer.write(handshake.receive(await reader.readexactly(handshake.bytes_needed)))
            connected += 1
            if connected == count:
                all_open.set()
            await all_open.wait()  # every connection is open before any echoes
            payload = hashlib.sha256(index.to_bytes(4, "big")).digest() * (size // 32)
            writer.write(payload)
            return await reader.readexactly(size) == payload
        finally:
            writer.close()

    async with asyncio.timeout(120):
        return await asyncio.gather(*(one(i) for i in range(count)))


def test_thousand_concurrent_connections_each_echo_64_kib(
    streams: StreamWorld, many_files: None
) -> None:
    rig = streams.tunnel()
    results = asyncio.run(_echo_many(rig, 1000, 64 * 1024))
    assert results.count(True) == 1000
    assert rig.app.accepted == 1000
