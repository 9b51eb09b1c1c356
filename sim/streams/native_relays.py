"""Heavy TLS relays handed to the native loop (`native/tls_relay.c`), one worker each.

An access point's relay whose WAN leg is TLS comes here once it has carried
`placement.HEAVY_BYTES`, if it holds nothing in flight and no fault applies to it. A
worker thread runs the C loop on the relay's two sockets and the very SSL object of its
TLS channel, with the GIL released, so the two access points' relays of a bulk stream
encrypt and decrypt on two cores with no interpreter in between.

The loop returns whenever something happens that only the Python relay handles: an end
of stream in either direction, an error, or a stop request, sent when the fault set
changes (so a new fault applies at once), when the owner closes the relay, and at
shutdown. The relay then continues in Python on its loop, from exactly where the loop
stopped (framing state, plaintext not yet written, ciphertext not yet sent). Sockets are
closed only on the loop, never while the C loop uses them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from . import native
from .pump import READ_SIZE
from .relay import Relay, close_socket
from .tlsio import TlsChannel
from .wan import Stream

log = logging.getLogger(__name__)

# Native relays at once: each holds a worker thread, 1 MiB of buffers and 3 MiB of BIO
# pair; beyond this, heavy relays stay in Python.
MAX_NATIVE = 8

# Continue a relay in Python: its two sockets in their order, and plaintext the loop read
# from the TLS side but had not written yet.
Resume = Callable[[Stream, Stream, bytes], None]


class Owner(Protocol):
    relays: set


class NativeRelay:
    """A relay while the C loop runs it; `close()` from the owner's loop stops it."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sockets: tuple[Stream, Stream],
        owners: Iterable[Owner],
        resume: Resume,
    ) -> None:
        self.loop = loop
        self.sockets = sockets
        self.owners = tuple(owners)
        self.resume = resume
        self.stop_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.close_requested: bool | None = None  # None: continue; else close, with RST?

    @property
    def channel(self) -> TlsChannel:
        return next(s for s in self.sockets if isinstance(s, TlsChannel))

    @property
    def plain(self) -> Stream:
        return next(s for s in self.sockets if not isinstance(s, TlsChannel))

    def stop(self) -> None:
        """Make the C loop return soon (on the relay's loop, or under NativeRelays' lock)."""
        if self.stop_fd >= 0:  # -1 once finished: the number may belong to another file
            os.eventfd_write(self.stop_fd, 1)

    def release_stop_fd(self) -> None:
        fd, self.stop_fd = self.stop_fd, -1
        if fd >= 0:
            os.close(fd)

    def close(self, reset: bool = False, reuse: bool = False) -> None:
        """As Relay.close: once the C loop returns, close both sockets."""
        if self.close_requested is None:
            self.close_requested = reset
        self.stop()

    def close_sockets(self, reset: bool) -> None:
        for sock in self.sockets:
            close_socket(sock, reset)


class NativeRelays:
    """The worker threads, and the relays they run."""

    def __init__(self, loop_library: native.NativeLoop, limit: int = MAX_NATIVE) -> None:
        self._native = loop_library
        self._limit = limit
        self._workers = concurrent.futures.ThreadPoolExecutor(
            limit, thread_name_prefix="orbit-sim-native-relay"
        )
        self._buffers = threading.local()
        self._lock = threading.Lock()
        self._running: set[NativeRelay] = set()
        self._closed = False

    @classmethod
    def load(cls) -> NativeRelays | None:
        library = native.load()
        return cls(library) if library is not None else None

    def take(
        self,
        relay: Relay,
        loop: asyncio.AbstractEventLoop,
        owners: Iterable[Owner],
        resume: Resume,
    ) -> bool:
        """On the relay's loop: hand `relay` to a worker if it is at rest, unshaped, and a
        worker is free; False leaves it as it was."""
        channels = [s for s in relay.sockets if isinstance(s, TlsChannel)]
        if (
            self._closed
            or len(channels) != 1
            or not channels[0].native_ready
            or not relay.at_rest
            or any(chain() is not None for chain in relay.chains)
        ):
            return False
        with self._lock:
            if len(self._running) >= self._limit:
                return False
            ssl_pointer = self._native.ssl_pointer(channels[0].tls)
            if ssl_pointer is None:
                return False
            handed = NativeRelay(loop, relay.release(), owners, resume)
            self._running.add(handed)
        for owner in handed.owners:
            owner.relays.add(handed)
        try:
            self._workers.submit(self._work, handed, ssl_pointer)
        except RuntimeError:  # shut down meanwhile: the relay ends as at shutdown
            handed.close(reset=True)
            self._finish(handed, native.STOPPED, b"")
        return True

    def stop_all(self) -> None:
        """Any thread: every native relay returns to Python (a fault may now apply)."""
        with self._lock:
            for handed in self._running:
                handed.stop()

    def shutdown(self) -> None:
        """Stop every native relay and wait for the workers (before the loops stop)."""
        self._closed = True
        self.stop_all()
        self._workers.shutdown(wait=True)

    def close_leftovers(self) -> None:
        """After the loops stopped: close what no loop continued."""
        with self._lock:
            left, self._running = list(self._running), set()
        for handed in left:
            handed.close_sockets(reset=True)
            handed.release_stop_fd()

    # -- the worker --------------------------------------------------------------------------

    def _work(self, handed: NativeRelay, ssl_pointer: int) -> None:
        buffers = self._buffers
        if not hasattr(buffers, "into"):
            buffers.into, buffers.out = bytearray(READ_SIZE), bytearray(READ_SIZE)
        channel = handed.channel
        state = native.RelayState()
        result, pending = native.ERROR, b""
        try:
            state.frame_left, header, state.header_got = channel.inbound_framing()
            state.header[:] = list(header)
            result = self._native.run(
                ssl_pointer,
                handed.plain.fileno(),
                channel.fileno(),
                handed.stop_fd,
                buffers.into,
                buffers.out,
                state,
            )
            channel.resume(
                state.frame_left, bytes(state.header), state.header_got, bool(state.ended_in)
            )
            start = state.pending_off
            pending = bytes(buffers.into[start : start + state.pending_len])
        except Exception:  # the relay resets; the gateway goes on
            log.exception("native relay failed")
            result = native.ERROR
        log.debug(
            "native relay returned %d (error %d) after %d bytes in, %d out",
            result,
            state.error,
            state.bytes_in,
            state.bytes_out,
        )
        # A closed loop raises RuntimeError: close_leftovers() takes the sockets then.
        with contextlib.suppress(RuntimeError):
            handed.loop.call_soon_threadsafe(self._finish, handed, result, pending)

    def _finish(self, handed: NativeRelay, result: int, pending: bytes) -> None:
        """On the relay's loop, after the C loop returned."""
        with self._lock:
            if handed not in self._running:
                return
            self._running.discard(handed)
            handed.release_stop_fd()
        for owner in handed.owners:
            owner.relays.discard(handed)
        if handed.close_requested is not None:
            handed.close_sockets(handed.close_requested)
        elif result == native.ERROR:
            handed.close_sockets(reset=True)
        else:
            handed.resume(*handed.sockets, pending)
