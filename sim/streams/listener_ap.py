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
    from .placement import WanPoint

log = logging.getLogger(__name__)


class ListenerAccessPoint:
    """Set-up on the gateway's first loop; the relay then runs where placement says."""

    def __init__(self, gateway: StreamGateway) -> None:
        self.gateway = gateway

    async def serve(self, wan_point: WanPoint, wan: socket.socket) -> None:
        """One WAN connection on the access point's port."""
        gateway = self.gateway
        assert gateway.backend is not None
        backend, loop = gateway.backend, gateway.placement.near.loop
        owned: list[Stream] = [wan]
        try:
            if gateway.tls is not None:
                ctx = gateway.tls.server_context(wan_point.access_point_id)
                scratch = gateway.placement.near.scratch
                wan = TlsChannel(wan, ctx, server_side=True, scratch=scratch)
                owned[0] = wan
                async with asyncio.timeout(gateway.handshake_timeout):
                    await tls_handshake(loop, wan)
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
            gateway.placement.listener_relay(point, wan_point, wan, owned[1], faults)
            owned.clear()
        except gateway.SETUP_FAILURES as exc:
            log.debug("listener access point set-up ended: %s", type(exc).__name__)
        finally:
            for sock in owned:
                close_socket(sock, reset=True)
