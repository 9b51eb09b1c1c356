"""A listening socket on the gateway's loop: accepts into a handler, can pause (refuse).

Pausing closes the socket (connects get ECONNREFUSED) but keeps the port, so resuming
listens on the same port again; `stop_listening_now` works from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

from .sockopts import tune_relay_socket

log = logging.getLogger(__name__)

Handler = Callable[[socket.socket], None]


class Listener:
    """A listening socket whose accepts feed a handler on the loop; can pause (refuse)."""

    def __init__(self, host: str, avoid_port: int | None = None) -> None:
        self.host = host
        self.sock = self._bind(0)
        if avoid_port is not None and self.sock.getsockname()[1] == avoid_port:
            # A restart must move the port: ask the kernel again.
            replacement = self._bind(0)
            self.sock.close()
            self.sock = replacement
        self.port: int = self.sock.getsockname()[1]
        self.paused = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: Handler | None = None

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
            sock.listen(socket.SOMAXCONN)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def serve(self, loop: asyncio.AbstractEventLoop, handler: Handler) -> None:
        """On the loop: start accepting into `handler(sock)`."""
        self._loop, self._handler = loop, handler
        if not self.paused and self.sock.fileno() >= 0:
            loop.add_reader(self.sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(64):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # shut down from another thread: close() follows on the loop
                self._unregister()
                return
            conn.setblocking(False)
            tune_relay_socket(conn)
            assert self._handler is not None
            self._handler(conn)

    def stop_listening_now(self) -> None:
        """Any thread: refuse new connections immediately (the fd is closed on the loop)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _unregister(self) -> None:
        if self._loop is not None and self.sock.fileno() >= 0:
            self._loop.remove_reader(self.sock.fileno())

    def pause(self) -> None:
        """On the loop: stop listening (connects are refused) but keep the port number."""
        if self.paused:
            return
        self.paused = True
        self._unregister()
        self.sock.close()

    def resume(self) -> None:
        if not self.paused:
            return
        try:
            self.sock = self._bind(self.port)
        except OSError as exc:
            log.warning("cannot listen again on port %s: %s", self.port, exc)
            return
        self.paused = False
        if self._loop is not None:
            self.serve(self._loop, self._handler)

    def close(self) -> None:
        self._unregister()
        self.sock.close()
