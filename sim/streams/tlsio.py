"""TLS over a non-blocking socket through memory BIOs, for the WAN leg's relays.

ssl.SSLSocket reads each 16 KiB record with two system calls (header, then body) and
writes each record with one. Here ciphertext moves in large batches: one recv() feeds
many records to OpenSSL, and one send() carries everything a write() encrypted. The
channel looks like a socket to the pumps: `recv_into`, `send`, `fileno`, and
BlockingIOError when the socket has nothing to give or no room.

Inside the TLS stream, bytes travel in frames: a 4-byte big-endian length, then that many
bytes; a frame of length 0 ends the stream in that direction. So the end of one tunnel
connection's stream is not the end of the TLS connection: once both directions have ended
this way, the connection can carry the next tunnel connection (`reusable`), and the access
points skip a TLS handshake. One frame per `send()`, so the framing costs one small record
per relay write (up to 512 KiB).
"""

from __future__ import annotations

import socket
import ssl
import struct

RAW_READ = 512 * 1024  # ciphertext per recv(): a relay write's frame, records included
FRAME_HEADER = struct.Struct("!I")
# Up to this size, header and bytes go to OpenSSL in one write (one record).
SMALL_FRAME = 16 * 1024


class TlsChannel:
    def __init__(
        self,
        sock: socket.socket,
        ctx: ssl.SSLContext,
        *,
        server_side: bool,
        scratch: bytearray,
        server_hostname: str | None = None,
        session: ssl.SSLSession | None = None,
    ) -> None:
        self.sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
        )
        self.scratch = scratch  # the calling thread's buffer for ciphertext reads
        # Ciphertext the socket had no room for; a view, so taking part of it copies nothing.
        self._unsent = memoryview(b"")
        self._eof = False
        # Framing: what is left of the inbound frame, and a header read in pieces.
        self._frame_left = 0
        self._header = bytearray(FRAME_HEADER.size)
        self._header_got = 0
        self.ended_in = False  # the peer's end-of-stream frame arrived
        self.ended_out = False  # ours went to OpenSSL

    # -- socket look-alike -------------------------------------------------------------------

    def fileno(self) -> int:
        return self.sock.fileno()

    def getsockname(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def setsockopt(self, level: int, option: int, value: bytes | int) -> None:
        self.sock.setsockopt(level, option, value)

    def shutdown(self, how: int) -> None:
        """Ending the stream for writing sends the end-of-stream frame, not a FIN."""
        if how == socket.SHUT_WR:
            self.end_stream()
        else:
            self.sock.shutdown(how)

    def close(self) -> None:
        self.sock.close()

    @property
    def session(self) -> ssl.SSLSession | None:
        return self.tls.session

    @property
    def session_reused(self) -> bool:
        return self.tls.session_reused

    # -- data ----------------------------------------------------------------------------------

    def recv_into(self, view: memoryview | bytearray) -> int:
        """Up to one record of the stream's bytes; 0 at the end of the stream (the peer's
        end-of-stream frame, or the connection's end)."""
        while not self._frame_left:
            if self.ended_in:
                return 0
            header = memoryview(self._header)[self._header_got :]
            got = self._read(header)
            if not got:
                return 0
            self._header_got += got
            if self._header_got == FRAME_HEADER.size:
                self._header_got = 0
                (self._frame_left,) = FRAME_HEADER.unpack(self._header)
                self.ended_in = not self._frame_left
        got = self._read(memoryview(view)[: self._frame_left])
        self._frame_left -= got
        return got

    def _read(self, view: memoryview) -> int:
        """Plaintext from OpenSSL, feeding it from the socket; 0 when the connection ends."""
        while True:
            try:
                return self.tls.read(len(view), view)
            except ssl.SSLWantReadError:
                if self._eof:
                    return 0
                self.feed()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return 0

    def recv(self, size: int) -> bytes:
        buf = bytearray(size)
        return bytes(buf[: self.recv_into(buf)])

    def send(self, data: bytes | memoryview) -> int:
        """Encrypt all of `data` as one frame; BlockingIOError (nothing taken) while older
        bytes wait."""
        if self._unsent and not self.flush():
            raise BlockingIOError("earlier ciphertext still waits for room")
        if not data:
            return 0
        header = FRAME_HEADER.pack(len(data))
        if len(data) <= SMALL_FRAME:
            self.tls.write(header + bytes(data))
        else:
            self.tls.write(header)
            self.tls.write(data)
        self.take_ciphertext()
        self.flush()
        return len(data)

    def end_stream(self) -> None:
        """Our end-of-stream frame; the connection stays open for the next stream."""
        if not self.ended_out:
            self.ended_out = True
            self.tls.write(FRAME_HEADER.pack(0))
            self.take_ciphertext()
            self.flush()

    @property
    def reusable(self) -> bool:
        """Both directions ended with their frames, nothing is left to send, and the peer
        has not closed: the next tunnel connection can use this one. (Bytes may already
        wait: at the listener access point, the next stream's preamble.)"""
        return self.ended_in and self.ended_out and not self._unsent and not self._eof

    @property
    def holds_unread(self) -> bool:
        """Bytes already read from the socket that nobody has taken yet."""
        return bool(self._incoming.pending or self.tls.pending() or self._frame_left)

    @property
    def native_ready(self) -> bool:
        """Nothing waits to be sent and neither the stream nor the connection has ended:
        the native loop (`native/`) can take the connection over."""
        return not (self._unsent or self._eof or self.ended_in or self.ended_out)

    def inbound_framing(self) -> tuple[int, bytes, int]:
        """What is left of the inbound frame, and the next header's bytes read so far."""
        return self._frame_left, bytes(self._header), self._header_got

    def resume(self, frame_left: int, header: bytes, header_got: int, ended_in: bool) -> None:
        """Continue after the native loop: its framing state, and what it encrypted but
        could not send (now in the outgoing memory BIO) queued for the socket."""
        self._frame_left = frame_left
        self._header[:] = header
        self._header_got = header_got
        self.ended_in = ended_in
        self.take_ciphertext()

    def next_stream(self) -> None:
        """Start over for the next tunnel connection (after `reusable`)."""
        self.ended_in = self.ended_out = False

    @property
    def backlog(self) -> int:
        """Ciphertext accepted by send() but not yet taken by the socket."""
        return len(self._unsent)

    def flush(self) -> bool:
        """Send waiting ciphertext; True once none is left."""
        if self._unsent:
            try:
                sent = self.sock.send(self._unsent)
            except BlockingIOError:
                return False
            self._unsent = self._unsent[sent:]
        return not self._unsent

    def feed(self) -> None:
        """Move what the socket has into OpenSSL; BlockingIOError when it has nothing."""
        n = self.sock.recv_into(self.scratch)  # BlockingIOError: nothing yet
        if n == 0:
            self._eof = True
            self._incoming.write_eof()
        else:
            self._incoming.write(memoryview(self.scratch)[:n])

    def take_ciphertext(self) -> None:
        """Queue what OpenSSL produced (records, handshake messages) for the socket."""
        if self._outgoing.pending:
            data = self._outgoing.read()
            self._unsent = memoryview(bytes(self._unsent) + data if self._unsent else data)
