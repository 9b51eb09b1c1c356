"""TLS over a non-blocking socket through memory BIOs, for the WAN leg's relays.

ssl.SSLSocket reads each 16 KiB record with two system calls (header, then body) and
writes each record with one. Here ciphertext moves in large batches: one recv() feeds
many records to OpenSSL, and one send() carries everything a write() encrypted. The
channel looks like a socket to the pumps: `recv_into`, `send`, `fileno`, and
BlockingIOError when the socket has nothing to give or no room.
"""

from __future__ import annotations

import socket
import ssl

RAW_READ = 256 * 1024


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

    # -- socket look-alike -------------------------------------------------------------------

    def fileno(self) -> int:
        return self.sock.fileno()

    def getsockname(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def setsockopt(self, level: int, option: int, value: bytes | int) -> None:
        self.sock.setsockopt(level, option, value)

    def shutdown(self, how: int) -> None:
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
        """Up to one record of plaintext; 0 at the end of the stream."""
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
        """Encrypt all of `data`; BlockingIOError (nothing taken) while older bytes wait."""
        if self._unsent and not self.flush():
            raise BlockingIOError("earlier ciphertext still waits for room")
        self.tls.write(data)
        self.take_ciphertext()
        self.flush()
        return len(data)

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
