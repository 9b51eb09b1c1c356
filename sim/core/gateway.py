"""The stream gateway hook: where an ACTIVE tunnel's initiator contact comes from.

The Transfer model calls `open(tunnel)` when a tunnel becomes ACTIVE (and again after a
restart, following `close`), and `close(tunnel_id)` on stop, expiry and delete. The default
`PortOnlyGateway` only reserves a loopback port so contacts are real and unique; the
streams gateway (`orbit_sim.streams`) replaces it with access points that relay bytes.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orbit_sim.services.transfer.models import Tunnel


class Gateway(Protocol):
    def open(self, tunnel: Tunnel) -> tuple[str, int]:
        """Start serving `tunnel`'s initiator side; returns its (ip, port)."""
        ...

    def close(self, tunnel_id: str) -> None:
        """Stop serving the tunnel and close its connections (idempotent)."""
        ...


class PortOnlyGateway:
    """Reserves a bound (not listening) loopback port per tunnel; relays nothing."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._sockets: dict[str, socket.socket] = {}
        self._last_port: dict[str, int] = {}
        self._lock = threading.Lock()

    def open(self, tunnel: Tunnel) -> tuple[str, int]:
        sock = self._bind(avoid=self._last_port.get(tunnel.id))
        port = sock.getsockname()[1]
        with self._lock:
            old = self._sockets.pop(tunnel.id, None)
            self._sockets[tunnel.id] = sock
            self._last_port[tunnel.id] = port
        if old is not None:
            old.close()
        return self.host, port

    def _bind(self, avoid: int | None) -> socket.socket:
        """A bound socket on a fresh port (a restart must move the port, so not `avoid`)."""
        while True:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((self.host, 0))
            if sock.getsockname()[1] != avoid:
                return sock
            sock.close()

    def close(self, tunnel_id: str) -> None:
        with self._lock:
            sock = self._sockets.pop(tunnel_id, None)
        if sock is not None:
            sock.close()

    def shutdown(self) -> None:
        with self._lock:
            sockets, self._sockets = list(self._sockets.values()), {}
        for sock in sockets:
            sock.close()
