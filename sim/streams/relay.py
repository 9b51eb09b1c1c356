"""One access point's half of a tunnel connection: two sockets and a pump each way.

A clean end in one direction is a half-close, forwarded by the pump; once both directions
have ended the sockets close. An error (reset, broken pipe, a reset fault) closes both
sockets with RST, which the next access point sees and passes on in turn.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable

from .pipes import PipePool
from .pump import ChainSource, CloseRequested, HeavyCallback, Pump, Stream
from .tlsio import TlsChannel

_LINGER_RESET = struct.pack("ii", 1, 0)
log = logging.getLogger(__name__)


def close_socket(sock: Stream, reset: bool = False) -> None:
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    except OSError:
        pass
    sock.close()


class Relay:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        a: Stream,
        b: Stream,
        *,
        pool: PipePool,
        buffer: bytearray,
        a_to_b: ChainSource,
        b_to_a: ChainSource,
        on_closed: Callable[[Relay], None],
        on_heavy: Callable[[Relay], None] | None = None,
        heavy_bytes: int = 0,
        on_reusable: Callable[[TlsChannel], None] | None = None,
    ) -> None:
        self.sockets = (a, b)
        # Takes a WAN connection whose stream ended cleanly both ways, instead of closing it.
        self.on_reusable = on_reusable
        self.chains = (a_to_b, b_to_a)
        self._on_closed = on_closed
        self.closed = False
        self._on_heavy = on_heavy
        heavy: HeavyCallback | None = self._pump_heavy if on_heavy is not None else None
        common = {
            "pool": pool,
            "buffer": buffer,
            "on_end": self._pump_ended,
            "on_heavy": heavy,
            "heavy_bytes": heavy_bytes,
        }
        self.pumps = (
            Pump(loop, a, b, chain=a_to_b, **common),  # type: ignore[arg-type]
            Pump(loop, b, a, chain=b_to_a, **common),  # type: ignore[arg-type]
        )

    def start(self, pending: bytes = b"") -> None:
        """`pending`: bytes already read from the TLS side for the other (native loop)."""
        for pump in self.pumps:
            pump.start()
            if isinstance(pump.src, TlsChannel):
                pump.preload(pending)

    def _pump_heavy(self, pump: Pump) -> None:
        if self._on_heavy is not None and not self.closed:
            self._on_heavy(self)

    def _pump_ended(self, pump: Pump, error: BaseException | None) -> None:
        if isinstance(error, CloseRequested):
            self.close()
        elif error is not None:
            log.debug("relay reset after %s", type(error).__name__)
            self.close(reset=True)
        elif all(p.done for p in self.pumps):
            self.close(reuse=True)

    @property
    def at_rest(self) -> bool:
        """Neither direction holds bytes, timers or a fault: the sockets can move."""
        return not self.closed and all(pump.at_rest for pump in self.pumps)

    def release(self) -> tuple[Stream, Stream]:
        """Stop relaying without closing: the sockets go to whoever continues."""
        self.closed = True
        for pump in self.pumps:
            pump.stop()
        self._on_closed(self)
        return self.sockets

    def close(self, reset: bool = False, reuse: bool = False) -> None:
        """Close both sockets; with `reuse` (both directions ended on their own), a WAN
        connection that can carry the next stream goes to `on_reusable` instead."""
        if self.closed:
            return
        self.closed = True
        for pump in self.pumps:
            pump.stop()
        for sock in self.sockets:
            if reuse and self.on_reusable is not None and _reusable(sock):
                self.on_reusable(sock)  # type: ignore[arg-type]
            else:
                close_socket(sock, reset)
        self._on_closed(self)


def _reusable(sock: Stream) -> bool:
    return isinstance(sock, TlsChannel) and sock.reusable
