"""What the gateway reads from the services model, behind one small interface.

The gateway runs on its own thread; every read goes through the simulator's current
sub-models (a reset replaces them) and takes the simulator's lock only briefly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from orbit_globus.lan import Credential

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


@dataclass(frozen=True)
class TunnelSides:
    id: str
    initiator_ap: str
    listener_ap: str


class Backend(Protocol):
    def sides(self, tunnel: Any) -> TunnelSides: ...

    def listener_contact(self, tunnel_id: str) -> tuple[str, int] | None: ...

    def lan_auth(self, access_point_id: str) -> bool: ...

    def lan_secret(self, tunnel_id: str, access_point_id: str) -> Credential | None: ...

    def is_stale(self, secret_id: str) -> bool: ...

    def faults(self) -> Iterable[Any]: ...


class SimBackend:
    """The Simulator's tunnels, access points, LAN secrets and faults."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def sides(self, tunnel: Any) -> TunnelSides:
        return TunnelSides(str(tunnel.id), str(tunnel.initiator_ap_id), str(tunnel.listener_ap_id))

    def listener_contact(self, tunnel_id: str) -> tuple[str, int] | None:
        with self.sim.lock:
            tunnel = self.sim.transfer.tunnels.get(tunnel_id)
            return None if tunnel is None else tunnel.listener_contact

    def lan_auth(self, access_point_id: str) -> bool:
        access_point = self.sim.transfer.access_points.get(access_point_id)
        return True if access_point is None else bool(access_point.lan_auth)

    def lan_secret(self, tunnel_id: str, access_point_id: str) -> Credential | None:
        return self.sim.gcs.lan_secret_for(tunnel_id, access_point_id)

    def is_stale(self, secret_id: str) -> bool:
        return self.sim.gcs.is_stale(secret_id)

    def faults(self) -> Iterable[Any]:
        return self.sim.faults.list()
