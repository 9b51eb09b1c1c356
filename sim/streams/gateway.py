"""The stream gateway: access points that carry a tunnel's bytes (SPEC 5.2).

    app --(1: GSLA)--> initiator AP --(2: mTLS)--> listener AP --(3: GSLA)--> app
        per-tunnel port              per-AP WAN port              listener contact

Two event loops. Every connection's set-up (both access points' handshakes) runs on the
first, so set-up never waits for a thread switch. Once set up, the initiator side's relay
stays there and the listener side's relay moves to the second loop: on the TLS leg one
side encrypts while the other decrypts, and OpenSSL and the socket calls run without the
GIL, so the two relays use two cores like the two endpoints' gateways of a real tunnel.
With a plain WAN leg both relays stay on the first loop: splicing needs little CPU, and
the second thread only added thread switches.

`open(tunnel)` gives an ACTIVE tunnel its own loopback initiator port; `close(tunnel_id)`
stops listening at once and closes every connection of the tunnel. Both are called from
the services model's threads (under the simulator's lock), so they never wait for a loop:
sockets are bound on the caller's thread and handed to the loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import trustme

from orbit_globus.lan import ClientHandshake, HandshakeError, Role, Status, lookup_for

from . import lan
from .backend import Backend, SimBackend, TunnelSides
from .faults import DOWNSTREAM, UPSTREAM, ConnectionFaults, FaultBoard
from .listener import Listener
from .loop import LoopThread
from .pipes import PipePool
from .pump import READ_SIZE
from .relay import Relay, close_socket
from .tls import WanTls, access_point_hostname
from .tlsio import RAW_READ, TlsChannel
from .wan import (
    PREAMBLE_SIZE,
    Stream,
    open_tcp,
    receive_ticket,
    recv_exactly,
    send_all,
    tls_handshake,
)

if TYPE_CHECKING:
    from orbit_globus.lan import Hello
    from orbit_sim.core.simulator import Simulator

log = logging.getLogger(__name__)

DEFAULT_HANDSHAKE_TIMEOUT = 10.0
FAULT_POLL_SECONDS = 0.02
SWITCH_INTERVAL = 0.0005
# What ends a connection's set-up without being a bug in the gateway.
SETUP_FAILURES = (OSError, HandshakeError, TimeoutError, ssl.SSLError, ValueError)


def _pair(sides: TunnelSides) -> tuple[str, str]:
    return sides.initiator_ap, sides.listener_ap


def _discard_wan(task: asyncio.Task[Stream]) -> None:
    """Close the WAN connection a failed set-up no longer needs, whenever it is ready."""

    def close_result(done: asyncio.Task[Stream]) -> None:
        if not done.cancelled() and done.exception() is None:
            close_socket(done.result(), reset=True)

    task.cancel()
    task.add_done_callback(close_result)


class _Side:
    """One event loop and what the pumps on it share (buffers are per thread)."""

    def __init__(self, name: str) -> None:
        self.thread = LoopThread(name)
        self.loop = self.thread.loop
        self.pool = PipePool()
        self.buffer = bytearray(READ_SIZE)  # plaintext on its way through
        self.scratch = bytearray(RAW_READ)  # ciphertext on its way into OpenSSL

    def spawn(self, owner: _Members, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        owner.tasks.add(task)
        task.add_done_callback(owner.tasks.discard)

    def stop(self) -> None:
        self.thread.stop()
        self.pool.close()


class _Members:
    """Set-up tasks and relays that end with their tunnel or access point (one loop's)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.relays: set[Relay] = set()

    def close_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for relay in list(self.relays):
            relay.close()


class _TunnelPoint(_Members):
    """One open tunnel: set-ups and relays on the first loop (initiator side; listener
    side too with a plain WAN leg), and `far`: its listener-side relays on the second."""

    def __init__(self, sides: TunnelSides, listener: Listener) -> None:
        super().__init__()
        self.sides = sides
        self.id = sides.id
        self.listener = listener
        self.far = _Members()
        self.closed = False


class _WanPoint(_Members):
    """The WAN port of one listener access point: set-ups (first loop), `far` relays."""

    def __init__(self, access_point_id: str, listener: Listener) -> None:
        super().__init__()
        self.access_point_id = access_point_id
        self.listener = listener
        self.far = _Members()


class StreamGateway:
    """Access points relaying real bytes: `Simulator(gateway=StreamGateway())` or `bind`.

    wan_tls: mutually authenticated TLS on the WAN leg (False: plain TCP, for speed tests).
    ca: the trustme CA issuing the access points' certificates (a new one by default).
    """

    def __init__(
        self,
        sim: Simulator | None = None,
        *,
        backend: Backend | None = None,
        wan_tls: bool = True,
        host: str = "127.0.0.1",
        ca: trustme.CA | None = None,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
    ) -> None:
        self.host = host
        self.handshake_timeout = handshake_timeout
        self.tls = WanTls(ca) if wan_tls else None
        self.board = FaultBoard()
        self.backend: Backend | None = None
        self._lock = threading.Lock()
        self._tunnels: dict[str, _TunnelPoint] = {}
        self._wan: dict[str, _WanPoint] = {}
        self._last_port: dict[str, int] = {}
        # Two loops and the services' threads share the GIL: a thread that wakes for a
        # short step should not wait out the default 5 ms switch interval.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._near = _Side("orbit-sim-initiator-aps")
        self._far = _Side("orbit-sim-listener-aps")
        self._closed = False
        if backend is not None or sim is not None:
            self.bind(sim, backend=backend)
        self._near.thread.call(self._poll_faults)

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
        self._wan_point(sides.listener_ap)
        with self._lock:
            listener = Listener(self.host, avoid_port=self._last_port.get(sides.id))
            self._last_port[sides.id] = listener.port
            point = _TunnelPoint(sides, listener)
            old = self._tunnels.pop(sides.id, None)
            self._tunnels[sides.id] = point
        if old is not None:
            self._retire(old)
        self._near.thread.call(lambda: self._start_tunnel(point))
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
        if self._near.thread.running:
            with contextlib.suppress(Exception):
                self._near.thread.run(self._close_wan_points)
        for side in (self._near, self._far):
            side.stop()

    def __enter__(self) -> StreamGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def apply_faults(self) -> None:
        """Take up fault changes now rather than at the next poll (any thread)."""
        if self._near.thread.running:
            self._near.thread.run(self._refresh_faults)

    def _retire(self, point: _TunnelPoint) -> None:
        point.closed = True
        point.listener.stop_listening_now()
        self._near.thread.call(lambda: self._stop_tunnel(point))
        self._far.thread.call(point.far.close_all)

    def _stop_tunnel(self, point: _TunnelPoint) -> None:
        """On the initiator loop."""
        point.listener.close()
        point.close_all()

    # -- listening -------------------------------------------------------------------------

    def _start_tunnel(self, point: _TunnelPoint) -> None:
        """On the initiator loop."""
        if point.closed:
            point.listener.close()
            return
        if self.tls is not None and self.tls.session(*_pair(point.sides)) is None:
            self._near.spawn(point, self._warm_up(point.sides))
        point.listener.serve(
            self._near.loop, lambda sock: self._near.spawn(point, self._initiator(point, sock))
        )
        self._apply_port_faults()

    def _wan_point(self, access_point_id: str) -> _WanPoint:
        """Any thread: the listener access point's WAN port, bound now, served on its loop."""
        with self._lock:
            wan = self._wan.get(access_point_id)
            if wan is not None:
                return wan
            wan = self._wan[access_point_id] = _WanPoint(access_point_id, Listener(self.host))
        near = self._near

        def serve() -> None:
            wan.listener.serve(
                near.loop, lambda sock: near.spawn(wan, self._listener_side(wan, sock))
            )
            self._apply_wan_faults()

        near.thread.call(serve)
        return wan

    def _close_wan_points(self) -> None:
        """On the first loop."""
        with self._lock:
            points, self._wan = list(self._wan.values()), {}
        for wan in points:
            wan.listener.close()
            wan.close_all()
            self._far.thread.call(wan.far.close_all)

    # -- faults ------------------------------------------------------------------------------

    def _refresh_faults(self) -> None:
        """On the initiator loop."""
        try:
            if self.board.refresh():
                self._apply_port_faults()
                self._apply_wan_faults()
        except Exception:  # a bad fault must not stop the gateway
            log.exception("applying network faults failed")

    def _poll_faults(self) -> None:
        if not self._closed:
            self._refresh_faults()
            self._near.loop.call_later(FAULT_POLL_SECONDS, self._poll_faults)

    def _apply_port_faults(self) -> None:
        """On the initiator loop: a refused tunnel port stops listening (and comes back)."""
        refusals = [f for f in self.board.of_kind("refuse") if f.probability >= 1.0]
        with self._lock:
            points = list(self._tunnels.values())
        for point in points:
            if point.closed:
                continue
            if any(f.applies_to(point.id, 1) for f in refusals):
                point.listener.pause()
            else:
                point.listener.resume()

    def _apply_wan_faults(self) -> None:
        """On the first loop: a closed listener access point stops listening and drops its
        connections (and comes back)."""
        closers = self.board.of_kind("close_listener")
        with self._lock:
            points = list(self._wan.values())
        for wan in points:
            if any(f.applies_to(wan.access_point_id) for f in closers):
                if not wan.listener.paused:
                    wan.listener.pause()
                    wan.close_all()
                    self._far.thread.call(wan.far.close_all)
            else:
                wan.listener.resume()

    # -- one connection's set-up -------------------------------------------------------------

    def _relay(
        self,
        side: _Side,
        a: Stream,
        b: Stream,
        faults: ConnectionFaults,
        legs: tuple[tuple[int, ...], tuple[int, ...]],
        owners: tuple[_Members, ...],
    ) -> None:
        """Start relaying between `a` (upstream side) and `b`; `legs` are the fault legs of
        the upstream and downstream pumps."""

        def forget(relay: Relay) -> None:
            for owner in owners:
                owner.relays.discard(relay)

        relay = Relay(
            side.loop,
            a,
            b,
            pool=side.pool,
            buffer=side.buffer,
            a_to_b=faults.chain_source(legs[0], UPSTREAM),
            b_to_a=faults.chain_source(legs[1], DOWNSTREAM),
            on_closed=forget,
        )
        for owner in owners:
            owner.relays.add(relay)
        relay.start()

    async def _initiator(self, point: _TunnelPoint, app: socket.socket) -> None:
        """On the initiator loop: arrow 1 in, arrow 2 out."""
        assert self.backend is not None
        backend, sides, loop = self.backend, point.sides, self._near.loop
        self._refresh_faults()
        faults = ConnectionFaults(self.board, point.id)
        owned: list[Stream] = [app]
        claimed = False
        # Arrow 2 is set up while arrow 1 authenticates; it carries nothing until then.
        wan_task = loop.create_task(self._connect_wan(point, faults))
        try:
            if faults.active("refuse", 1):
                return
            if backend.lan_auth(sides.initiator_ap):

                def lookup(hello: Hello) -> Any:
                    if point.closed:
                        return Status.TUNNEL_NOT_ACTIVE
                    credential = backend.lan_secret(point.id, sides.initiator_ap)
                    if credential is None:  # revoked (say so) or never created
                        stale = backend.is_stale(str(hello.secret_id))
                        return Status.STALE_SECRET if stale else Status.AUTH_FAILED
                    return lookup_for(point.id, credential)(hello)

                async with asyncio.timeout(self.handshake_timeout):
                    status = await lan.serve(
                        loop,
                        app,
                        lookup,
                        stall=faults.active("stall_handshake", 1),
                        corrupt=faults.active("corrupt_handshake", 1),
                    )
                if status is not Status.OK:
                    return
            wan = await wan_task
            claimed = True
            owned.append(wan)
            # Only now does the listener side learn which tunnel: arrow 1 is authenticated.
            await send_all(loop, wan, self._preamble(point, faults))
            self._relay(self._near, app, wan, faults, ((1,), (2, 1)), (point,))
            owned.clear()
        except SETUP_FAILURES as exc:
            log.debug("tunnel %s: initiator set-up ended: %s", point.id, type(exc).__name__)
        finally:
            for sock in owned:
                close_socket(sock, reset=True)
            if not claimed:
                _discard_wan(wan_task)

    def _hand_over(
        self,
        point: _TunnelPoint,
        wan_point: _WanPoint,
        wan: Stream,
        lan_leg: Stream,
        faults: ConnectionFaults,
    ) -> None:
        """Start the listener side's relay: on the second loop with a TLS WAN leg, where
        the relay spends its time in OpenSSL; on this first loop with a plain one, where
        splicing costs little CPU and a second thread only adds thread switches (one loop:
        0.20 instead of 0.25 relay CPU-seconds per GiB, best single stream 3.2-3.7 instead
        of 2.5-3.1 GB/s; with TLS one loop is slower, 0.71 instead of 0.85 GB/s)."""
        if self.tls is None:
            side, owners = self._near, (point, wan_point)
        else:
            side, owners = self._far, (point.far, wan_point.far)
        if isinstance(wan, TlsChannel):
            wan.scratch = side.scratch  # from now on it reads on the second loop's thread

        def start() -> None:
            if point.closed or wan_point.listener.paused:
                close_socket(wan, reset=True)
                close_socket(lan_leg, reset=True)
                return
            self._relay(side, wan, lan_leg, faults, ((2, 3), (3,)), owners)

        side.thread.call(start)

    async def _connect_wan(self, point: _TunnelPoint, faults: ConnectionFaults) -> Stream:
        """Arrow 2 up to the end of its TLS handshake (the preamble is sent later)."""
        if faults.active("refuse", 2):
            raise ConnectionRefusedError("WAN connection refused by a fault")
        if faults.active("stall_handshake", 2):
            await asyncio.sleep(self.handshake_timeout)
            raise TimeoutError("WAN handshake stalled")
        return await self._open_wan(point.sides, corrupt=faults.active("corrupt_handshake", 2))

    async def _open_wan(self, sides: TunnelSides, corrupt: bool = False) -> Stream:
        """On the initiator loop."""
        loop = self._near.loop
        wan_port = self._wan_point(sides.listener_ap).listener.port
        wan = await open_tcp(loop, (self.host, wan_port))
        if self.tls is None:
            return wan
        try:
            pair = _pair(sides)
            if corrupt:
                ctx, session = self.tls.rogue_client_context(), None
            else:
                ctx, session = self.tls.client_context(pair[0]), self.tls.session(*pair)
            channel = TlsChannel(
                wan,
                ctx,
                server_side=False,
                scratch=self._near.scratch,
                server_hostname=access_point_hostname(sides.listener_ap),
                session=session,
            )
            async with asyncio.timeout(self.handshake_timeout):
                await tls_handshake(loop, channel)
                if not corrupt and not channel.session_reused:
                    await receive_ticket(loop, channel)
                    self.tls.remember(*pair, channel.session)
        except BaseException:
            close_socket(wan, reset=True)
            raise
        return channel

    async def _warm_up(self, sides: TunnelSides) -> None:
        """One WAN handshake ahead of the first connection, so it can resume a session."""
        with contextlib.suppress(*SETUP_FAILURES):
            close_socket(await self._open_wan(sides))

    def _preamble(self, point: _TunnelPoint, faults: ConnectionFaults) -> bytes:
        preamble = uuid.UUID(point.id).bytes
        if self.tls is None and faults.active("corrupt_handshake", 2):
            preamble = bytes(b ^ 0xFF for b in preamble)
        return preamble

    async def _listener_side(self, wan_point: _WanPoint, wan: socket.socket) -> None:
        """On the first loop: arrow 2 in, arrow 3 out; the relay then runs on the second."""
        assert self.backend is not None
        backend, loop = self.backend, self._near.loop
        owned: list[Stream] = [wan]
        try:
            if self.tls is not None:
                ctx = self.tls.server_context(wan_point.access_point_id)
                wan = TlsChannel(wan, ctx, server_side=True, scratch=self._near.scratch)
                owned[0] = wan
                async with asyncio.timeout(self.handshake_timeout):
                    await tls_handshake(loop, wan)
            # The initiator names the tunnel once its application is authenticated.
            async with asyncio.timeout(2 * self.handshake_timeout):
                preamble = await recv_exactly(loop, wan, PREAMBLE_SIZE)
            tunnel_id = str(uuid.UUID(bytes=preamble))
            with self._lock:
                point = self._tunnels.get(tunnel_id)
            if point is None or point.sides.listener_ap != wan_point.access_point_id:
                return
            task = asyncio.current_task()
            assert task is not None
            point.tasks.add(task)
            task.add_done_callback(point.tasks.discard)
            if point.closed:  # retired while we read the preamble
                return
            faults = ConnectionFaults(self.board, tunnel_id)
            contact = backend.listener_contact(tunnel_id)
            if contact is None or faults.active("refuse", 3):
                return
            credential = None
            if backend.lan_auth(wan_point.access_point_id):
                # No secret (revoked, never created): do not even knock on the listener.
                credential = backend.lan_secret(tunnel_id, wan_point.access_point_id)
                if credential is None:
                    return
            async with asyncio.timeout(self.handshake_timeout):
                owned.append(await open_tcp(loop, contact))
            if credential is not None:
                handshake = ClientHandshake(
                    tunnel_id=tunnel_id,
                    secret=credential.secret,
                    secret_id=credential.secret_id,
                    role=Role.ACCESS_POINT,
                )
                async with asyncio.timeout(self.handshake_timeout):
                    await lan.connect(
                        loop,
                        owned[1],
                        handshake,
                        stall=faults.active("stall_handshake", 3),
                        corrupt=faults.active("corrupt_handshake", 3),
                    )
            if point.closed:
                return
            self._hand_over(point, wan_point, wan, owned[1], faults)
            owned.clear()
        except SETUP_FAILURES as exc:
            log.debug("listener access point set-up ended: %s", type(exc).__name__)
        finally:
            for sock in owned:
                close_socket(sock, reset=True)
