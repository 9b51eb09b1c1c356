"""A pump moves one direction of one relay: bytes from `src` to `dst` until `src` ends.

Three ways to move bytes, picked per read:
- splice: both ends plain sockets and no fault on the way: socket -> pipe -> socket in
  the kernel, no copy through Python;
- copy: a TLS channel on either side: read into the loop's shared buffer, write at once,
  keep only what the peer did not take;
- shaped: a fault applies: pieces wait in a queue until their time (latency, bandwidth),
  may be dropped (blackhole), or end the connection after a byte count (reset, close),
  at a deadline (timeout); a fault may also hold the half-close back (slow close).

When `src` ends, whatever is queued is written and then `dst` is half-closed (SHUT_WR),
which forwards the half-close. Errors end the pump; its relay decides what to close.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import struct
import termios
from collections import deque
from collections.abc import Callable

from orbit_sim.faults.effect import Chain, Piece

from .pipes import Pipe, PipePool
from .tlsio import TlsChannel

SPLICE_FLAGS = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
# Bytes per read on the copying (TLS) path. Each read costs a wake-up, a frame and a send
# whatever its size: TLS single stream, alternated rounds in one run, 512 KiB moved 544 MB/s
# at 2.97 CPU-s/GiB, 256 KiB 506 MB/s at 3.27, 64 KiB 375 MB/s at 4.27.
READ_SIZE = 512 * 1024
SPLICE_ROUNDS = 8
COPY_ROUNDS = 4
RECORD_ROOM = 16 * 1024 + 256  # a whole TLS record's plaintext fits
HIGH_WATER = 1 << 20  # queued bytes above which a shaped pump stops reading
RESET_WAIT_STEPS = 400  # x 5 ms: how long a reset waits for the peer to take its bytes

Stream = socket.socket | TlsChannel
# Called after each read once a pump has moved its `heavy_bytes` (its relay may move).
HeavyCallback = Callable[["Pump"], None]


class ResetRequested(ConnectionResetError):
    """A fault asked for the connection to be reset."""


class CloseRequested(ConnectionError):
    """A fault asked for the connection to be closed (FIN, not RST)."""


# What a pump reports when it ends: None for a clean end of stream.
EndCallback = Callable[["Pump", BaseException | None], None]
ChainSource = Callable[[], Chain | None]


def unsent_bytes(sock: Stream) -> int:
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except OSError:
        return 0


class Pump:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        src: Stream,
        dst: Stream,
        *,
        pool: PipePool,
        buffer: bytearray,
        chain: ChainSource,
        on_end: EndCallback,
        on_heavy: HeavyCallback | None = None,
        heavy_bytes: int = 0,
    ) -> None:
        self._loop = loop
        self.src = src
        self.dst = dst
        self._src_fd = src.fileno()
        self._dst_fd = dst.fileno()
        self._pool = pool
        self._view = memoryview(buffer)
        self._chain_source = chain
        self._on_end = on_end
        # Told after each read once `heavy_bytes` went through (0: never).
        self._on_heavy = on_heavy if heavy_bytes else None
        self._heavy_left = heavy_bytes
        self._tls_src = isinstance(src, TlsChannel)
        self._plain = not (self._tls_src or isinstance(dst, TlsChannel))
        self._pipe: Pipe | None = None
        self._in_pipe = 0
        self._queue: deque[Piece] = deque()
        self._queued = 0
        self._chain: Chain | None = None
        self._timer: asyncio.TimerHandle | None = None
        # A fault's: the connection's deadline, and a held half-close.
        self._fault_timers: list[asyncio.TimerHandle] = []
        self._fin_held = False
        self._reading = False
        self._writing = False
        self._eof = False
        self.done = False

    # -- registration ---------------------------------------------------------------------

    def start(self) -> None:
        self._adopt(self._chain_source())
        self._want_read(True)
        if self._blocked():  # ciphertext the native loop encrypted but could not send
            self._want_write(True)
        if self._tls_src:
            # Records read along with the handshake or preamble wait inside OpenSSL.
            self._loop.call_soon(self._read_buffered)

    def preload(self, data: bytes) -> None:
        """After `start()`: bytes already taken from `src` elsewhere (the native loop) go
        to `dst` before anything read from now on."""
        if data:
            self._queue.append((0.0, data))
            self._queued += len(data)
            self._flush()

    def stop(self) -> None:
        """Unregister everything; the sockets are closed by the owner."""
        self._want_read(False)
        self._want_write(False)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for timer in self._fault_timers:
            timer.cancel()
        if self._pipe is not None:
            self._pool.discard(self._pipe)
            self._pipe = None
        self._queue.clear()
        self.done = True

    @property
    def at_rest(self) -> bool:
        """Holds nothing between its sockets (no queue, pipe, fault or unsent ciphertext),
        so another loop can take over its sockets."""
        return (
            not self.done
            and not self._eof
            and self._chain is None
            and self._pipe is None
            and not self._fault_timers
            and self._timer is None
            and not self._blocked()
        )

    def _want_read(self, on: bool) -> None:
        if on and not self._reading and not self._eof:
            self._loop.add_reader(self._src_fd, self._on_readable)
            self._reading = True
            if self._tls_src:
                self._loop.call_soon(self._read_buffered)
        elif not on and self._reading:
            self._loop.remove_reader(self._src_fd)
            self._reading = False

    def _want_write(self, on: bool) -> None:
        if on and not self._writing:
            self._loop.add_writer(self._dst_fd, self._on_writable)
            self._writing = True
        elif not on and self._writing:
            self._loop.remove_writer(self._dst_fd)
            self._writing = False

    def _end(self, error: BaseException | None) -> None:
        if self.done:
            return
        self.stop()
        self._on_end(self, error)

    # -- reading ----------------------------------------------------------------------------

    def _read_buffered(self) -> None:
        if self._reading and not self.done:
            self._on_readable()

    def _on_readable(self) -> None:
        try:
            self._adopt(self._chain_source())
            if self._chain is None and self._plain and not self._queue:
                self._splice_in()
            else:
                rounds = COPY_ROUNDS
                while self._copy_in() and (rounds := rounds - 1):
                    pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:  # resets, broken pipes, TLS errors, a reset fault
            self._end(exc)
            return
        if self._on_heavy is not None and self._heavy_left <= 0 and not self.done:
            self._on_heavy(self)

    def _adopt(self, chain: Chain | None) -> None:
        """Take up a changed chain between pieces (bytes already on their way keep theirs)."""
        if chain is self._chain or self._in_pipe or self._queue:
            return
        self._chain = chain
        for timer in self._fault_timers:
            timer.cancel()
        self._fault_timers.clear()
        at = chain.deadline(self._loop.time()) if chain is not None else None
        if at is not None:
            ended = CloseRequested("closed by a fault")
            self._fault_timers.append(self._loop.call_at(at, self._end, ended))

    def _splice_in(self) -> None:
        # Several rounds per wake-up: a loop iteration costs more than a splice.
        for _ in range(SPLICE_ROUNDS):
            if self._pipe is None:
                self._pipe = self._pool.get()
            try:
                n = os.splice(
                    self._src_fd, self._pipe.write_fd, self._pipe.size, flags=SPLICE_FLAGS
                )
            except BlockingIOError:
                self._pool.put(self._pipe)  # nothing (more) to read: hold no pipe while idle
                self._pipe = None
                return
            if n == 0:
                self._pool.put(self._pipe)
                self._pipe = None
                self._at_eof()
                return
            self._in_pipe = n
            if not self._splice_out():
                return

    def _splice_out(self) -> bool:
        """Empty the pipe into `dst`; False when `dst` is full (then wait for room)."""
        assert self._pipe is not None
        while self._in_pipe:
            try:
                n = os.splice(self._pipe.read_fd, self._dst_fd, self._in_pipe, flags=SPLICE_FLAGS)
            except BlockingIOError:
                self._want_read(False)
                self._want_write(True)
                return False
            self._in_pipe -= n
        self._pool.put(self._pipe)
        self._pipe = None
        self._want_write(False)
        self._want_read(True)
        return True

    def _copy_in(self) -> bool:
        """Read a bufferful and pass it on; True when a full buffer went straight through
        (more is probably waiting)."""
        view = self._view
        filled = 0
        eof = False
        full = False
        # A TLS channel hands out one record per read: gather many before writing once.
        while True:
            try:
                n = self.src.recv_into(view[filled:])
            except BlockingIOError:
                break
            if n == 0:
                eof = True
                break
            filled += n
            if READ_SIZE - filled < RECORD_ROOM:
                full = True
                break
            if not self._tls_src:
                break
        if filled:
            if self._on_heavy is not None:
                self._heavy_left -= filled
            if self._chain is None:
                self._enqueue_plain(view[:filled])
            else:
                self._enqueue(self._chain.feed([(self._loop.time(), bytes(view[:filled]))]))
        if eof:
            self._at_eof()
        elif self._queued >= HIGH_WATER or (self._chain is None and self._blocked()):
            self._want_read(False)
        elif full:
            if self._tls_src:  # records already inside OpenSSL raise no readiness event
                self._loop.call_soon(self._read_buffered)
            return self._chain is None
        return False

    def _blocked(self) -> bool:
        """Bytes wait for the destination: queued pieces, or a TLS channel's ciphertext."""
        return bool(self._queue) or (isinstance(self.dst, TlsChannel) and self.dst.backlog > 0)

    def _enqueue_plain(self, data: memoryview) -> None:
        if not self._queue:
            sent = self._send(data)
            if sent == len(data):
                if self._blocked():  # TLS: encrypted bytes wait for room
                    self._want_write(True)
                return
            data = data[sent:]
        # Keep only what the peer did not take: the shared buffer is reused by the next read.
        self._queue.append((0.0, bytes(data)))
        self._queued += len(data)
        self._flush()

    def _enqueue(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._queue.append(piece)
            self._queued += len(piece[1])
        self._flush()

    def _at_eof(self) -> None:
        self._eof = True
        self._want_read(False)
        self._finish_if_drained()

    # -- writing ----------------------------------------------------------------------------

    def _send(self, data: memoryview | bytes) -> int:
        try:
            return self.dst.send(data)
        except BlockingIOError:
            return 0

    def _on_writable(self) -> None:
        try:
            if self._pipe is not None and self._in_pipe:
                self._splice_out()
                self._finish_if_drained()
            else:
                self._flush()
        except OSError as exc:
            self._end(exc)

    def _flush(self) -> None:
        """Write the queued pieces that are due; wait for time or for room otherwise."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if isinstance(self.dst, TlsChannel) and not self.dst.flush():
            self._want_write(True)
            return
        now = self._loop.time()
        while self._queue:
            ready, data = self._queue[0]
            if ready > now:
                self._want_write(False)
                self._timer = self._loop.call_at(ready, self._flush_safely)
                break
            sent = self._send(data)
            self._queued -= sent
            if sent < len(data):
                self._queue[0] = (ready, data[sent:])
                self._want_write(True)
                break
            self._queue.popleft()
        else:
            self._want_write(self._blocked())
        if self._chain is not None and not self._queue:
            if self._chain.reset:
                self._reset_once_sent()
                return
            if self._chain.close:
                self._end(CloseRequested("closed by a fault"))
                return
        if not self._eof and (self._queued < HIGH_WATER if self._chain else not self._blocked()):
            self._want_read(True)
        self._finish_if_drained()

    def _reset_once_sent(self, waited: int = 0) -> None:
        """Reset after the bytes let through have left our socket: an RST discards
        whatever is still queued for sending, and the peer must get exactly those bytes."""
        self._want_read(False)
        if unsent_bytes(self.dst) and waited < RESET_WAIT_STEPS:
            self._timer = self._loop.call_later(0.005, self._reset_once_sent, waited + 1)
            return
        self._end(ResetRequested("reset by a fault"))

    def _flush_safely(self) -> None:
        self._timer = None
        try:
            self._flush()
        except OSError as exc:
            self._end(exc)

    def _finish_if_drained(self) -> None:
        if self._eof and not self._in_pipe and not self._blocked() and not self.done:
            delay = self._chain.close_delay if self._chain is not None else 0.0
            if delay and not self._fin_held:  # a fault holds the half-close back
                self._fin_held = True
                self._fault_timers.append(self._loop.call_later(delay, self._finish_if_drained))
                return
            with contextlib.suppress(OSError):  # a peer already gone needs no FIN
                self.dst.shutdown(socket.SHUT_WR)
            if self._blocked():  # a TLS end-of-stream frame waits for room: end after it
                self._want_write(True)
                return
            self._end(None)
