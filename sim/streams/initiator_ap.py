"""The initiator access point: arrow 1 in (GSLA as server), arrow 2 out (the WAN leg).

It accepts on the tunnel's port and runs GSLA with `orbit_globus.lan.ServerHandshake`.
Arrow 2 is an idle connection from `wan_pool.py` (TCP and TLS already done: a finished
tunnel connection's, or a spare), or, with none at hand or a handshake fault on leg 2,
opened while arrow 1 authenticates. Arrow 2 carries nothing
until arrow 1 is authenticated, and only then does it send the preamble that names the
tunnel.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orbit_globus.lan import Status, lookup_for
from orbit_sim.faults.network import ListeningPort

from . import lan
from .faults import ConnectionFaults
from .relay import close_socket
from .tls import access_point_hostname
from .tlsio import TlsChannel
from .wan import Stream, open_tcp, receive_ticket, send_all, tls_handshake
from .wan_pool import WanPool

if TYPE_CHECKING:
    from orbit_globus.lan import Hello

    from .backend import TunnelSides
    from .gateway import StreamGateway
    from .placement import TunnelPoint

log = logging.getLogger(__name__)


def _discard_wan(task: asyncio.Future[Stream]) -> None:
    """Close the WAN connection a failed set-up no longer needs, whenever it is ready."""

    def close_result(done: asyncio.Future[Stream]) -> None:
        if not done.cancelled() and done.exception() is None:
            close_socket(done.result(), reset=True)

    task.cancel()
    task.add_done_callback(close_result)


class InitiatorAccessPoint:
    """Runs on the gateway's first loop; reads tunnels, secrets and faults through it."""

    def __init__(self, gateway: StreamGateway) -> None:
        self.gateway = gateway
        self.pool = WanPool(
            gateway.placement.near.loop, self.open_wan, max_idle=lambda: gateway.handshake_timeout
        )

    async def serve(self, point: TunnelPoint, app: socket.socket) -> None:
        """One application connection on the tunnel's port."""
        gateway = self.gateway
        assert gateway.backend is not None
        backend, sides = gateway.backend, point.sides
        loop = gateway.placement.near.loop
        gateway.refresh_faults()
        faults = ConnectionFaults(gateway.board, point.id)
        owned: list[Stream] = [app]
        claimed = False
        # Arrow 2 is ready or set up while arrow 1 authenticates; it carries nothing until then.
        wan_task = self._wan_for(point, faults)
        try:
            plan = faults.handshake(1)
            if plan.refuse:
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

                async with asyncio.timeout(gateway.handshake_timeout):
                    status = await lan.serve(
                        loop, app, lookup, stall=plan.stall, corrupt=plan.corrupt
                    )
                if status is not Status.OK:
                    return
            wan = await wan_task
            claimed = True
            owned.append(wan)
            # Only now does the listener side learn which tunnel: arrow 1 is authenticated.
            await send_all(loop, wan, self._preamble(point, faults))
            reuse = self._reuse(sides) if isinstance(wan, TlsChannel) else None
            gateway.placement.initiator_relay(point, app, wan, faults, reuse)
            owned.clear()
            self.pool.refill(sides)
        except gateway.SETUP_FAILURES as exc:
            log.debug("tunnel %s: initiator set-up ended: %s", point.id, type(exc).__name__)
        finally:
            for sock in owned:
                close_socket(sock, reset=True)
            if not claimed:
                _discard_wan(wan_task)

    def _reuse(self, sides: TunnelSides) -> Callable[[TlsChannel], None]:
        """For the initiator-side relay: a WAN connection whose stream ended cleanly goes
        back to the pool."""
        return lambda channel: self.pool.put(sides, channel)

    def _wan_for(self, point: TunnelPoint, faults: ConnectionFaults) -> asyncio.Future[Stream]:
        """Arrow 2: the pair's spare, unless a fault acts on this connection's WAN handshake
        or has closed the listener access point's port; else a new connection."""
        loop = self.gateway.placement.near.loop
        sides = point.sides
        plan = faults.handshake(2)
        port = ListeningPort(2, access_point_id=sides.listener_ap)
        if plan.refuse or plan.stall or plan.corrupt or self.gateway.board.closes(port):
            self.pool.discard(sides)
        elif (spare := self.pool.take(sides)) is not None:
            ready: asyncio.Future[Stream] = loop.create_future()
            ready.set_result(spare)
            return ready
        return loop.create_task(self._connect_wan(point, faults))

    async def _connect_wan(self, point: TunnelPoint, faults: ConnectionFaults) -> Stream:
        """Arrow 2 up to the end of its TLS handshake (the preamble is sent later)."""
        plan = faults.handshake(2)
        if plan.refuse:
            raise ConnectionRefusedError("WAN connection refused by a fault")
        if plan.stall:
            await asyncio.sleep(self.gateway.handshake_timeout)
            raise TimeoutError("WAN handshake stalled")
        return await self.open_wan(point.sides, corrupt=plan.corrupt)

    async def open_wan(self, sides: TunnelSides, corrupt: bool = False) -> Stream:
        """On the first loop: TCP to the listener access point, then TLS if the leg has it."""
        gateway = self.gateway
        near = gateway.placement.near
        wan_port = gateway.wan_point(sides.listener_ap).listener.port
        wan = await open_tcp(near.loop, (gateway.host, wan_port))
        tls = gateway.tls
        if tls is None:
            return wan
        try:
            pair = sides.initiator_ap, sides.listener_ap
            if corrupt:
                ctx, session = tls.rogue_client_context(), None
            else:
                ctx, session = tls.client_context(pair[0]), tls.session(*pair)
            channel = TlsChannel(
                wan,
                ctx,
                server_side=False,
                scratch=near.scratch,
                server_hostname=access_point_hostname(sides.listener_ap),
                session=session,
            )
            async with asyncio.timeout(gateway.handshake_timeout):
                await tls_handshake(near.loop, channel)
                if not corrupt and not channel.session_reused:
                    await receive_ticket(near.loop, channel)
                    tls.remember(*pair, channel.session)
        except BaseException:
            close_socket(wan, reset=True)
            raise
        return channel

    def _preamble(self, point: TunnelPoint, faults: ConnectionFaults) -> bytes:
        preamble = uuid.UUID(point.id).bytes
        if self.gateway.tls is None and faults.handshake(2).corrupt:
            preamble = bytes(b ^ 0xFF for b in preamble)
        return preamble
