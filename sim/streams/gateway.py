"""The stream gateway: access points that carry a tunnel's bytes (SPEC 5.2).

    app --(1: GSLA)--> initiator AP --(2: mTLS)--> listener AP --(3: GSLA)--> app
        per-tunnel port              per-AP WAN port              listener contact

This module keeps the registry (tunnel ports, listener access points' WAN ports), opens
and closes them, and applies faults to listening ports. A connection's set-up is the
access points' (`initiator_ap.py`, `listener_ap.py`); where relays run is `placement.py`.

`open(tunnel)` gives an ACTIVE tunnel its own loopback initiator port; `close(tunnel_id)`
stops listening at once and closes every connection of the tunnel. Both are called from
the services model's threads (under the simulator's lock), so they never wait for a loop:
sockets are bound on the caller's thread and handed to the loops.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import sys
import threading
from typing import TYPE_CHECKING, Any

import trustme

from orbit_globus.lan import HandshakeError
from orbit_sim.faults.network import ListeningPort

from .backend import Backend, SimBackend
from .faults import FaultBoard
from .initiator_ap import InitiatorAccessPoint
from .listener import Listener
from .listener_ap import ListenerAccessPoint
from .placement import Placement, TunnelPoint, WanPoint
from .tls import WanTls

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

log = logging.getLogger(__name__)

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
FAULT_POLL_SECONDS = 0.02
SWITCH_INTERVAL = 0.0005


class StreamGateway:
    """Access points relaying real bytes: `Simulator(gateway=StreamGateway())` or `bind`.

    wan_tls: mutually authenticated TLS on the WAN leg (False: plain TCP, for speed tests).
    ca: the trustme CA issuing the access points' certificates (a new one by default).
    """

    # What ends a connection's set-up without being a bug in the gateway.
    SETUP_FAILURES = (OSError, HandshakeError, TimeoutError, ssl.SSLError, ValueError)

    def __init__(
        self,
        sim: Simulator | None = None,
        *,
        backend: Backend | None = None,
        wan_tls: bool = True,
        host: str = "127.0.0.1",
        ca: trustme.CA | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        native_relays: bool = True,
    ) -> None:
        self.host = host
        self.handshake_timeout = handshake_timeout
        self.tls = WanTls(ca) if wan_tls else None
        self.board = FaultBoard()
        self.backend: Backend | None = None
        self._lock = threading.Lock()
        self._tunnels: dict[str, TunnelPoint] = {}
        self._wan: dict[str, WanPoint] = {}
        self._last_port: dict[str, int] = {}
        # Two loops and the services' threads share the GIL: a thread that wakes for a
        # short step should not wait out the default 5 ms switch interval.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.placement = Placement(wan_tls, native=native_relays)
        self.initiator = InitiatorAccessPoint(self)
        self.listener = ListenerAccessPoint(self)
        self._closed = False
        if backend is not None or sim is not None:
            self.bind(sim, backend=backend)
        self.placement.near.thread.call(self._poll_faults)

    @property
    def closed(self) -> bool:
        """Shutting down or shut down: nothing new starts."""
        return self._closed

    @property
    def wan_tls(self) -> bool:
        return self.tls is not None

    def bind(self, sim: Simulator | None, *, backend: Backend | None = None) -> StreamGateway:
        """Read tunnels, secrets and faults from `sim` (or an explicit backend)."""
        if backend is None:
            if sim is None:
                raise ValueError("bind() needs a simulator or a backend")
            backend = SimBackend(sim)
        self.backend = backend
        self.board.set_source(backend.faults)
        return self

    # -- the gateway hook (any thread) ------------------------------------------------------

    def open(self, tunnel: Any) -> tuple[str, int]:
        if self.backend is None:
            raise RuntimeError("StreamGateway.open() before bind(): no simulator to serve")
        if self._closed:
            raise RuntimeError("StreamGateway is shut down")
        sides = self.backend.sides(tunnel)
        self.wan_point(sides.listener_ap)
        with self._lock:
            listener = Listener(self.host, avoid_port=self._last_port.get(sides.id))
            self._last_port[sides.id] = listener.port
            point = TunnelPoint(sides, listener)
            old = self._tunnels.pop(sides.id, None)
            self._tunnels[sides.id] = point
        if old is not None:
            self._retire(old)
        self.placement.near.thread.call(lambda: self._start_tunnel(point))
        return self.host, listener.port

    def close(self, tunnel_id: str) -> None:
        with self._lock:
            point = self._tunnels.pop(str(tunnel_id), None)
        if point is not None:
            self._retire(point)

    def shutdown(self) -> None:
        """Close every tunnel and access point and stop the loop threads."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            points, self._tunnels = list(self._tunnels.values()), {}
        for point in points:
            self._retire(point)
        near = self.placement.near
        if near.thread.running:
            with contextlib.suppress(Exception):
                near.thread.run(self._close_wan_points)
        self.placement.stop()

    def __enter__(self) -> StreamGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def apply_faults(self) -> None:
        """Take up fault changes now rather than at the next poll (any thread)."""
        if self.placement.near.thread.running:
            self.placement.near.thread.run(self.refresh_faults)

    def tunnel_point(self, tunnel_id: str) -> TunnelPoint | None:
        with self._lock:
            return self._tunnels.get(tunnel_id)

    def _retire(self, point: TunnelPoint) -> None:
        point.closed = True
        point.listener.stop_listening_now()
        self.placement.near.thread.call(lambda: self._stop_tunnel(point))
        self.placement.far.thread.call(point.far.close_all)

    def _stop_tunnel(self, point: TunnelPoint) -> None:
        """On the first loop."""
        point.listener.close()
        point.close_all()

    # -- listening -------------------------------------------------------------------------

    def _start_tunnel(self, point: TunnelPoint) -> None:
        """On the first loop."""
        if point.closed:
            point.listener.close()
            return
        near = self.placement.near
        self.initiator.pool.refill(point.sides)  # ready before the first connection
        point.listener.serve(
            near.loop, lambda sock: near.spawn(point, self.initiator.serve(point, sock))
        )
        self._apply_port_faults()

    def wan_point(self, access_point_id: str) -> WanPoint:
        """Any thread: the listener access point's WAN port, bound now, served on its loop."""
        with self._lock:
            wan = self._wan.get(access_point_id)
            if wan is not None:
                return wan
            wan = self._wan[access_point_id] = WanPoint(access_point_id, Listener(self.host))
        near = self.placement.near

        def serve() -> None:
            wan.listener.serve(
                near.loop, lambda sock: near.spawn(wan, self.listener.serve(wan, sock))
            )
            self._apply_port_faults()

        near.thread.call(serve)
        return wan

    def _close_wan_points(self) -> None:
        """On the first loop."""
        self.initiator.pool.close()
        with self._lock:
            points, self._wan = list(self._wan.values()), {}
        for wan in points:
            wan.listener.close()
            wan.close_all()
            self.placement.far.thread.call(wan.far.close_all)

    # -- faults on listening ports -------------------------------------------------------------

    def refresh_faults(self) -> None:
        """On the first loop: take up a changed fault set."""
        try:
            if self.board.refresh():
                self.placement.fault_set_changed()
                self._apply_port_faults()
        except Exception:  # a bad fault must not stop the gateway
            log.exception("applying network faults failed")

    def _poll_faults(self) -> None:
        if not self._closed:
            self.refresh_faults()
            self.placement.near.loop.call_later(FAULT_POLL_SECONDS, self._poll_faults)

    def _apply_port_faults(self) -> None:
        """On the first loop: a port a fault closes stops listening; a listener access
        point's WAN port also drops its connections. Both come back with the fault gone."""
        with self._lock:
            tunnels, wans = list(self._tunnels.values()), list(self._wan.values())
        for point in tunnels:
            if not point.closed:
                closed = self.board.closes(ListeningPort(1, tunnel_id=point.id))
                _listen(point.listener, not closed)
        for wan in wans:
            closed = self.board.closes(ListeningPort(2, access_point_id=wan.access_point_id))
            if closed and not wan.listener.paused:
                wan.listener.pause()  # before the relays go: a late relay start sees it
                wan.close_all()
                self.placement.far.thread.call(wan.far.close_all)
            _listen(wan.listener, not closed)


def _listen(listener: Listener, on: bool) -> None:
    if on:
        listener.resume()
    else:
        listener.pause()
