"""Transfer state: stream access points and tunnels with their lifecycle.

Lifecycle: AWAITING_LISTENER -(listener contact set)-> ACTIVE -(PATCH state=STOPPING,
expiry, failure)-> STOPPING -(STOP_DELAY seconds later)-> STOPPED. A tunnel's lifetime
(`lifetime_mins`) counts from its creation. A restartable tunnel survives a gateway
restart with a new initiator port; a non-restartable one is stopped by it.
`TransferBackend` is the whole Transfer model: access points and tunnels here, and
`data` (collections.py), the collections with their file systems and the tasks.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from orbit_sim.services.transfer.collections import TransferData
from orbit_sim.services.transfer.exceptions import (
    AccessPointNotFound,
    InvalidTunnelRequest,
    TunnelConflict,
    TunnelNotFound,
)

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

AWAITING_LISTENER = "AWAITING_LISTENER"
ACTIVE = "ACTIVE"
STOPPING = "STOPPING"
STOPPED = "STOPPED"

STATUS_TEXT = {
    AWAITING_LISTENER: "The tunnel is waiting for listening.",
    ACTIVE: "The tunnel is active.",
    STOPPING: "A request to stop tunnel has been received.",
    STOPPED: "The tunnel has been stopped.",
}
DEFAULT_LIFETIME_MINS = 360
MAX_LIFETIME_MINS = 7 * 24 * 60
# Seconds between STOPPING and STOPPED (the real service takes a moment too).
STOP_DELAY = 1.0


def _checked_contact(ip_address: Any, port: Any) -> tuple[str, int]:
    if not isinstance(ip_address, str) or not ip_address:
        raise InvalidTunnelRequest("listener_ip_address must be a non-empty string")
    # globus-cli's streams code sends the port as a string; accept digits either way.
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InvalidTunnelRequest("listener_port must be an integer between 1 and 65535")
    return ip_address, port


def _checked_lifetime(lifetime: Any) -> int:
    if isinstance(lifetime, bool) or not isinstance(lifetime, int):
        raise InvalidTunnelRequest("lifetime_mins must be an integer")
    if not 1 <= lifetime <= MAX_LIFETIME_MINS:
        raise InvalidTunnelRequest(f"lifetime_mins must be between 1 and {MAX_LIFETIME_MINS}")
    return lifetime


def iso_time(unix_seconds: float) -> str:
    """Transfer's timestamp format: `2025-12-12T21:11:50.525278` (UTC, no offset)."""
    return (
        datetime.fromtimestamp(unix_seconds, UTC)
        .replace(tzinfo=None)
        .isoformat(timespec="microseconds")
    )


@dataclass
class StreamAccessPoint:
    id: str
    display_name: str
    host_endpoint_id: str
    advertised_owner: str
    tlsftp_server: str
    # False: the access point does not secure LAN connections (empty lankey, no GSLA).
    lan_auth: bool = True
    description: str | None = None
    organization: str | None = None
    department: str | None = None
    keywords: str | None = None
    contact_email: str | None = None
    contact_info: str | None = None
    info_link: str | None = None


@dataclass
class TunnelEvent:
    id: int
    code: str
    description: str
    details: str
    time: float
    is_error: bool = False


@dataclass
class Tunnel:
    id: str
    owner_id: str
    initiator_ap_id: str
    listener_ap_id: str
    label: str | None
    lifetime_mins: int
    restartable: bool
    submission_id: str
    created_time: float
    state: str = AWAITING_LISTENER
    status: str = STATUS_TEXT[AWAITING_LISTENER]
    initiator_ip_address: str | None = None
    initiator_port: int | None = None
    listener_ip_address: str | None = None
    listener_port: int | None = None
    stopping_since: float | None = None
    stop_details: str = ""
    events: list[TunnelEvent] = field(default_factory=list)

    @property
    def expires_at(self) -> float:
        return self.created_time + self.lifetime_mins * 60

    @property
    def listener_contact(self) -> tuple[str, int] | None:
        if self.listener_ip_address is None or self.listener_port is None:
            return None
        return self.listener_ip_address, self.listener_port

    @property
    def is_live(self) -> bool:
        return self.state in (AWAITING_LISTENER, ACTIVE)


class TransferBackend:
    """Stream access points and tunnels, and `data`: collections, file systems, tasks."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.access_points: dict[str, StreamAccessPoint] = {}
        self.tunnels: dict[str, Tunnel] = {}
        self._event_ids = itertools.count(1000)
        self.data = TransferData(sim)

    def seed_world(self, world: Any) -> None:
        """Add Transfer's part of the default world: the Globus Tutorial Collections."""
        from orbit_sim.services.transfer.tutorial import seed_tutorial_collections

        world.collections.extend(seed_tutorial_collections(self.sim))

    # -- access points ----------------------------------------------------------------------

    def add_access_point(self, access_point: StreamAccessPoint) -> StreamAccessPoint:
        self.access_points[access_point.id] = access_point
        return access_point

    def get_access_point(self, access_point_id: str) -> StreamAccessPoint:
        access_point = self.access_points.get(str(access_point_id))
        if access_point is None:
            raise AccessPointNotFound(str(access_point_id))
        return access_point

    # -- tunnels ----------------------------------------------------------------------------

    def create_tunnel(
        self,
        owner_id: str,
        initiator_ap_id: str,
        listener_ap_id: str,
        *,
        label: str | None = None,
        lifetime_mins: int | None = None,
        restartable: bool = False,
        submission_id: str | None = None,
        listener_contact: tuple[Any, Any] | None = None,
    ) -> Tunnel:
        """A new tunnel; with `listener_contact` it becomes ACTIVE at once."""
        contact = _checked_contact(*listener_contact) if listener_contact else None
        for ap_id in (initiator_ap_id, listener_ap_id):
            if str(ap_id) not in self.access_points:
                raise InvalidTunnelRequest(f"Stream access point {ap_id} does not exist")
        lifetime = _checked_lifetime(
            DEFAULT_LIFETIME_MINS if lifetime_mins is None else lifetime_mins
        )
        if submission_id is not None:
            # A resubmission with the same id returns the tunnel already created.
            for tunnel in self.tunnels.values():
                if tunnel.submission_id == submission_id and tunnel.owner_id == owner_id:
                    return tunnel
        tunnel = Tunnel(
            id=str(uuid.uuid4()),
            owner_id=owner_id,
            initiator_ap_id=str(initiator_ap_id),
            listener_ap_id=str(listener_ap_id),
            label=label,
            lifetime_mins=lifetime,
            restartable=bool(restartable),
            submission_id=submission_id or str(uuid.uuid1()),
            created_time=self.sim.clock.now(),
        )
        self.tunnels[tunnel.id] = tunnel
        self._event(tunnel, "STARTED", "started", "Attempting tunnel establishment")
        if contact is not None:
            self.set_listener_contact(tunnel, *contact)
        return tunnel

    def get_tunnel(self, tunnel_id: str, owner_id: str | None = None) -> Tunnel:
        """The tunnel; another identity's tunnel is reported as not found."""
        tunnel = self.tunnels.get(str(tunnel_id))
        if tunnel is None or (owner_id is not None and tunnel.owner_id != owner_id):
            raise TunnelNotFound(str(tunnel_id))
        return tunnel

    def list_tunnels(self, owner_id: str) -> list[Tunnel]:
        return [t for t in self.tunnels.values() if t.owner_id == owner_id]

    def set_listener_contact(self, tunnel: Tunnel, ip_address: Any, port: Any) -> None:
        if not tunnel.is_live:
            raise TunnelConflict(f"Tunnel {tunnel.id} is {tunnel.state}")
        tunnel.listener_ip_address, tunnel.listener_port = _checked_contact(ip_address, port)
        if tunnel.state == AWAITING_LISTENER:
            self._activate(tunnel)

    def set_label(self, tunnel: Tunnel, label: Any) -> None:
        if label is not None and not isinstance(label, str):
            raise InvalidTunnelRequest("label must be a string")
        tunnel.label = label

    def set_lifetime(self, tunnel: Tunnel, lifetime_mins: Any) -> None:
        """A new lifetime, still counted from creation (the next tick may expire the tunnel)."""
        if not tunnel.is_live:
            raise TunnelConflict(f"Tunnel {tunnel.id} is {tunnel.state}")
        tunnel.lifetime_mins = _checked_lifetime(lifetime_mins)

    def stop_tunnel(self, tunnel: Tunnel, details: str = "Tunnel stopped as requested.") -> None:
        """Begin stopping (idempotent): the gateway closes now, STOPPED follows shortly."""
        if not tunnel.is_live:
            return
        self.sim.gateway.close(tunnel.id)
        tunnel.state = STOPPING
        tunnel.status = STATUS_TEXT[STOPPING]
        tunnel.stopping_since = self.sim.clock.now()
        tunnel.initiator_ip_address = None
        tunnel.initiator_port = None
        tunnel.stop_details = details

    def expire_tunnel(self, tunnel: Tunnel) -> None:
        """End the tunnel's lifetime now (control action and the clock's expiry)."""
        if not tunnel.is_live:
            return
        self.stop_tunnel(tunnel, "Tunnel lifetime expired.")
        self._event(tunnel, "TUNNEL_EXPIRED", "tunnel has expired", "Tunnel lifetime expired.")
        self._finish_stop(tunnel)

    def restart_tunnel(self, tunnel: Tunnel) -> None:
        """Simulate an access point restart: restartable tunnels get a new initiator port."""
        if tunnel.state != ACTIVE:
            raise TunnelConflict(f"Tunnel {tunnel.id} is {tunnel.state}, not ACTIVE")
        if not tunnel.restartable:
            self._event(
                tunnel, "TUNNEL_ERROR", "tunnel failed", "Access point restarted.", is_error=True
            )
            self.stop_tunnel(tunnel, "Access point restarted; tunnel is not restartable.")
            self._finish_stop(tunnel)
            return
        self.sim.gateway.close(tunnel.id)
        self._open_gateway(tunnel)
        self._event(tunnel, "TUNNEL_RESTARTED", "tunnel restarted", "Access point restarted.")

    def delete_tunnel(self, tunnel: Tunnel) -> None:
        if tunnel.is_live:
            raise TunnelConflict(f"Tunnel {tunnel.id} must be stopped before it can be deleted")
        self.sim.gateway.close(tunnel.id)
        self.sim.gcs.forget_tunnel(tunnel.id)
        del self.tunnels[tunnel.id]

    # -- time -------------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        for tunnel in list(self.tunnels.values()):
            if tunnel.is_live and now >= tunnel.expires_at:
                self.expire_tunnel(tunnel)
            elif tunnel.state == STOPPING and now - (tunnel.stopping_since or now) >= STOP_DELAY:
                self._finish_stop(tunnel)
        self.data.settle(now)

    def shutdown(self) -> None:
        for tunnel_id in list(self.tunnels):
            self.sim.gateway.close(tunnel_id)

    # -- internals --------------------------------------------------------------------------

    def _activate(self, tunnel: Tunnel) -> None:
        self._open_gateway(tunnel)
        tunnel.state = ACTIVE
        tunnel.status = STATUS_TEXT[ACTIVE]
        self._event(tunnel, "TUNNEL_ACTIVE", "tunnel is active", "Tunnel has been established")

    def _open_gateway(self, tunnel: Tunnel) -> None:
        ip_address, port = self.sim.gateway.open(tunnel)
        tunnel.initiator_ip_address = ip_address
        tunnel.initiator_port = port

    def _finish_stop(self, tunnel: Tunnel) -> None:
        if tunnel.state != STOPPING:
            return
        tunnel.state = STOPPED
        tunnel.status = STATUS_TEXT[STOPPED]
        self._event(tunnel, "TUNNEL_STOPPED", "tunnel has been stopped", tunnel.stop_details)

    def _event(
        self, tunnel: Tunnel, code: str, description: str, details: str, *, is_error: bool = False
    ) -> None:
        tunnel.events.append(
            TunnelEvent(
                id=next(self._event_ids),
                code=code,
                description=description,
                details=details,
                time=self.sim.clock.now(),
                is_error=is_error,
            )
        )
