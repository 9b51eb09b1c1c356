"""Loopback socket helpers shared by the intercept tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}


def tcp_pair(family: int = socket.AF_INET) -> tuple[socket.socket, socket.socket]:
    """A connected (client, server) pair of TCP sockets over loopback."""
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK[family], 0))
        listener.listen(1)
        client = socket.socket(family, socket.SOCK_STREAM)
        client.settimeout(10)
        client.connect(listener.getsockname()[:2])
        server, _ = listener.accept()
        server.settimeout(10)
        return client, server


def recv_all(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    """Everything until the peer closes (or `limit` bytes)."""
    chunks = []
    total = 0
    while total < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class Background:
    """Runs a function in a thread; `result()` joins it and re-raises its exception."""

    def __init__(self, target: Callable[[], Any]) -> None:
        self._target = target
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._target()
        except BaseException as exc:  # handed to the test thread
            self._error = exc

    def result(self, timeout: float = 20) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("background task did not finish")
        if self._error is not None:
            raise self._error
        return self._value


@contextmanager
def closing_all(*socks: socket.socket) -> Iterator[None]:
    try:
        yield
    finally:
        for s in socks:
            s.close()
