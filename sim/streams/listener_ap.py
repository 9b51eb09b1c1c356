"""The listener access point: arrow 2 in (the WAN leg), arrow 3 out (GSLA as client).

It learns the tunnel from the preamble, takes the listener side's LAN secret (none: it
does not even connect), connects to the listener contact and authenticates as client
(`ClientHandshake`, role ACCESS_POINT). Nothing from an unauthenticated application
reaches the listening one: the preamble comes only after arrow 1 succeeded.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from typing import TYPE_CHECKING

from orbit_globus.lan import ClientHandshake, Role

from . import lan
from .faults import ConnectionFaults
from .relay import close_socket
from .tlsio import TlsChannel
from .wan import PREAMBLE_SIZE, Stream, open_tcp, recv_exactly, tls_handshake

if TYPE_CHECKING:
    from .gateway import StreamGateway
    from .placement import Reuse, WanPoint

log = logging.getLogger(__name__)


class ListenerAccessPoint:
    """Set-up on the gateway's first loop; the relay then runs where placement says."""

    def __init__(self, gateway: StreamGateway) -> None:
        self.gateway = gateway

    async def serve(self, wan_point: WanPoint, wan: socket.socket) -> None:
        """One WAN connection on the access point's port: its TLS handshake, then its
        first tunnel connection."""
        gateway = self.gateway
        if gateway.tls is None:
            await self.serve_stream(wan_point, wan)
            return
        ctx = gateway.tls.server_context(wan_point.access_point_id)
        channel = TlsChannel(wan, ctx, server_side=True, scratch=gateway.placement.near.scratch)
        try:
            async with asyncio.timeout(gateway.handshake_timeout):
                await tls_handshake(gateway.placement.near.loop, channel)
        except BaseException as exc:  # cancelled too: the socket is ours to close
            close_socket(channel, reset=True)
            if not isinstance(exc, gateway.SETUP_FAILURES):
                raise
            log.debug("listener access point handshake ended: %s", type(exc).__name__)
            return
        await self.serve_stream(wan_point, channel)

    def reuse(self, wan_point: WanPoint) -> Reuse:
        """For the listener-side relay: a WAN connection whose stream ended cleanly waits
        for the next tunnel connection's preamble, back on the first loop."""
        gateway = self.gateway
        near = gateway.placement.near

        def wait_for_next(channel: TlsChannel) -> None:
            def on_first_loop() -> None:
                if gateway.closed:
                    close_socket(channel)
                    return
                channel.next_stream()
                channel.scratch = near.scratch
                near.spawn(wan_point, self.serve_stream(wan_point, channel))

            try:
                near.thread.call(on_first_loop)
            except RuntimeError:  # the first loop is already closed: shutting down
                close_socket(channel)

        return wait_for_next

    async def serve_stream(self, wan_point: WanPoint, wan: Stream) -> None:
        """One tunnel connection over a WAN connection, from its preamble to its relay."""
        gateway = self.gateway
        assert gateway.backend is not None
        backend, loop = gateway.backend, gateway.placement.near.loop
        owned: list[Stream] = [wan]
        try:
            # The initiator names the tunnel once its application is authenticated.
            async with asyncio.timeout(2 * gateway.handshake_timeout):
                preamble = await recv_exactly(loop, wan, PREAMBLE_SIZE)
            tunnel_id = str(uuid.UUID(bytes=preamble))
            point = gateway.tunnel_point(tunnel_id)
            if point is None or point.sides.listener_ap != wan_point.access_point_id:
                return
            point.adopt_current_task()
            if point.closed:  # retired while we read the preamble
                return
            faults = ConnectionFaults(gateway.board, tunnel_id)
            plan = faults.handshake(3)
            contact = backend.listener_contact(tunnel_id)
            if contact is None or plan.refuse:
                return
            credential = None
            if backend.lan_auth(wan_point.access_point_id):
                # No secret (revoked, never created): do not even knock on the listener.
                credential = backend.lan_secret(tunnel_id, wan_point.access_point_id)
                if credential is None:
                    return
            async with asyncio.timeout(gateway.handshake_timeout):
                owned.append(await open_tcp(loop, contact))
            if credential is not None:
                handshake = ClientHandshake(
                    tunnel_id=tunnel_id,
                    secret=credential.secret,
                    secret_id=credential.secret_id,
                    role=Role.ACCESS_POINT,
                )
                async with asyncio.timeout(gateway.handshake_timeout):
                    await lan.connect(
                        loop, owned[1], handshake, stall=plan.stall, corrupt=plan.corrupt
                    )
            if point.closed or wan_point.listener.paused:
                return
            reuse = self.reuse(wan_point) if isinstance(wan, TlsChannel) else None
            gateway.placement.listener_relay(point, wan_point, wan, owned[1], faults, reuse)
            owned.clear()
        except gateway.SETUP_FAILURES as exc:
            log.debug("listener access point set-up ended: %s", type(exc).__name__)
        finally:
            for sock in owned:
                close_socket(sock, reset=True)
