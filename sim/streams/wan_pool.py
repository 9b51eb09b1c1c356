"""Idle WAN connections per access point pair, so a tunnel connection skips the WAN
leg's TCP and TLS handshakes.

Two kinds come here: a connection whose tunnel connection ended cleanly both ways (its
relays hand it back: `put`), and a spare opened ahead when the pair has none. A connection
takes the newest (`take`). The handshakes would otherwise run on the same loop as the
set-up: a resumed TLS 1.2 handshake costs ~0.9 ms of CPU for both ends, plus ~0.25 ms for
CPython to copy the session into each new connection. An idle connection carries nothing
until a tunnel connection takes it and sends the preamble, so the listener access point
sees the same bytes in the same order as on a fresh connection.

An idle connection lives at most `max_idle()` seconds (the gateway's handshake timeout: the
listener access point waits twice that for a preamble), at most `MAX_IDLE` are kept per
pair, and a dead one (the peer closed or reset it, its WAN port closed by a fault) is
thrown away when taken.
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
MAX_IDLE = 16  # idle connections kept per pair; more come back only after a burst
Opener = Callable[["TunnelSides"], Awaitable[Stream]]


def _pair(sides: TunnelSides) -> Pair:
    return sides.initiator_ap, sides.listener_ap


def is_idle_and_open(stream: Stream) -> bool:
    """True when the peer has neither closed nor reset the connection, nor sent anything
    (a spare's peer sends nothing before the preamble)."""
    if isinstance(stream, TlsChannel):
        if stream.holds_unread:
            return False
        sock = stream.sock
    else:
        sock = stream
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False  # EOF, or bytes a spare's peer should not have sent


class WanPool:
    """On the first loop only: the idle WAN connections per pair, and the openings on their
    way. A connection comes back after a tunnel connection whose stream ended cleanly both
    ways (`put`); the newest is taken first."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, opener: Opener, max_idle: Callable[[], float]
    ) -> None:
        self._loop = loop
        self._opener = opener
        self._max_idle = max_idle
        self._spares: dict[Pair, list[tuple[Stream, asyncio.TimerHandle]]] = {}
        self._opening: dict[Pair, asyncio.Task[None]] = {}
        self._closed = False

    def idle_count(self, sides: TunnelSides) -> int:
        """How many idle connections the pair has."""
        return len(self._spares.get(_pair(sides), ()))

    def take(self, sides: TunnelSides) -> Stream | None:
        """The pair's newest idle connection that is still good (the caller's from now on)."""
        spares = self._spares.get(_pair(sides))
        while spares:
            stream, expiry = spares.pop()
            expiry.cancel()
            if is_idle_and_open(stream):
                return stream
            close_socket(stream, reset=True)
        return None

    def put(self, sides: TunnelSides, stream: Stream) -> None:
        """Keep a connection for the pair's next tunnel connection (or close it: pool
        closed, or MAX_IDLE already held)."""
        pair = _pair(sides)
        spares = self._spares.setdefault(pair, [])
        if self._closed or len(spares) >= MAX_IDLE:
            close_socket(stream)
            return
        if isinstance(stream, TlsChannel):
            stream.next_stream()
        expiry = self._loop.call_later(self._max_idle(), self._expire, pair, stream)
        spares.append((stream, expiry))

    def refill(self, sides: TunnelSides) -> None:
        """Open a spare for the pair unless one is held or on its way."""
        pair = _pair(sides)
        if self._closed or self._spares.get(pair) or pair in self._opening:
            return
        task = self._loop.create_task(self._open(pair, sides))
        self._opening[pair] = task
        task.add_done_callback(lambda _: self._opening.pop(pair, None))

    def discard(self, sides: TunnelSides) -> None:
        """Throw the pair's idle connections away (a fault acts on its WAN leg)."""
        for stream, expiry in self._spares.pop(_pair(sides), []):
            expiry.cancel()
            close_socket(stream, reset=True)

    def close(self) -> None:
        self._closed = True
        for task in list(self._opening.values()):
            task.cancel()
        for spares in self._spares.values():
            for stream, expiry in spares:
                expiry.cancel()
                close_socket(stream, reset=True)
        self._spares.clear()

    async def _open(self, pair: Pair, sides: TunnelSides) -> None:
        try:
            stream = await self._opener(sides)
        except Exception as exc:  # the next connection opens its own and sees why
            log.debug("spare WAN connection %s -> %s: %s", *pair, type(exc).__name__)
            return
        if self._closed or self._spares.get(pair):
            close_socket(stream, reset=True)
            return
        self.put(sides, stream)

    def _expire(self, pair: Pair, stream: Stream) -> None:
        spares = self._spares.get(pair, [])
        for index, (held, _) in enumerate(spares):
            if held is stream:
                del spares[index]
                close_socket(stream)
                return
