"""Spare WAN connections: one ready connection (TCP and TLS done) per access point pair.

A tunnel connection's set-up otherwise opens arrow 2 while arrow 1 authenticates, but both
run on the first loop, so the WAN handshake's CPU (a resumed TLS 1.2 handshake for both
ends, ~0.75 ms, plus ~0.25 ms for CPython to copy the session into the new connection)
lands on the critical path. The initiator access point therefore keeps one spare per
listener access point it talks to: a connection takes it, and a new spare is opened once
that connection's set-up on this side is done. A spare carries nothing until a connection
takes it and sends the preamble, so the listener access point sees the same bytes in the
same order as on a fresh connection.

A spare lives at most `max_idle()` seconds (the gateway's handshake timeout: the listener
access point waits twice that for a preamble); a dead one (the peer closed or reset it, its WAN port
closed by a fault) is thrown away when taken.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .relay import close_socket
from .tlsio import TlsChannel
from .wan import Stream

if TYPE_CHECKING:
    from .backend import TunnelSides

log = logging.getLogger(__name__)

Pair = tuple[str, str]  # (initiator access point, listener access point)
Opener = Callable[["TunnelSides"], Awaitable[Stream]]


def _pair(sides: TunnelSides) -> Pair:
    return sides.initiator_ap, sides.listener_ap


def is_idle_and_open(stream: Stream) -> bool:
    """True when the peer has neither closed nor reset the connection, nor sent anything
    (a spare's peer sends nothing before the preamble)."""
    sock = stream.sock if isinstance(stream, TlsChannel) else stream
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False  # EOF, or bytes a spare's peer should not have sent


class WanPool:
    """On the first loop only: the spares, and the openings on their way."""

    def __init__(self, loop: asyncio.AbstractEventLoop, opener: Opener, max_idle: float) -> None:
        self._loop = loop
        self._opener = opener
        self._max_idle = max_idle
        self._spares: dict[Pair, tuple[Stream, asyncio.TimerHandle]] = {}
        self._opening: dict[Pair, asyncio.Task[None]] = {}
        self._closed = False

    def holds(self, sides: TunnelSides) -> bool:
        return _pair(sides) in self._spares

    def take(self, sides: TunnelSides) -> Stream | None:
        """The pair's spare if it is still good (it is the caller's from now on)."""
        entry = self._spares.pop(_pair(sides), None)
        if entry is None:
            return None
        stream, expiry = entry
        expiry.cancel()
        if is_idle_and_open(stream):
            return stream
        close_socket(stream, reset=True)
        return None

    def refill(self, sides: TunnelSides) -> None:
        """Open a spare for the pair unless one is held or on its way."""
        pair = _pair(sides)
        if self._closed or pair in self._spares or pair in self._opening:
            return
        task = self._loop.create_task(self._open(pair, sides))
        self._opening[pair] = task
        task.add_done_callback(lambda _: self._opening.pop(pair, None))

    def discard(self, sides: TunnelSides) -> None:
        """Throw the pair's spare away (its listener access point went away)."""
        entry = self._spares.pop(_pair(sides), None)
        if entry is not None:
            entry[1].cancel()
            close_socket(entry[0], reset=True)

    def close(self) -> None:
        self._closed = True
        for task in list(self._opening.values()):
            task.cancel()
        for stream, expiry in self._spares.values():
            expiry.cancel()
            close_socket(stream, reset=True)
        self._spares.clear()

    async def _open(self, pair: Pair, sides: TunnelSides) -> None:
        try:
            stream = await self._opener(sides)
        except Exception as exc:  # the next connection opens its own and sees why
            log.debug("spare WAN connection %s -> %s: %s", *pair, type(exc).__name__)
            return
        if self._closed or pair in self._spares:
            close_socket(stream, reset=True)
            return
        expiry = self._loop.call_later(self._max_idle(), self._expire, pair, stream)
        self._spares[pair] = (stream, expiry)

    def _expire(self, pair: Pair, stream: Stream) -> None:
        entry = self._spares.get(pair)
        if entry is not None and entry[0] is stream:
            del self._spares[pair]
            close_socket(stream)
