"""Base of the network faults: which leg of a tunnel connection, which way, which tunnel.

Legs (SPEC 5.2): 1 application -> initiator access point, 2 the WAN leg between the access
points, 3 listener access point -> listening application. Upstream is the direction from
the initiating application towards the listening one.
"""

from __future__ import annotations

import dataclasses

from orbit_sim.faults.base import Fault

LEGS = (1, 2, 3)
DIRECTIONS = ("upstream", "downstream", "both")


@dataclasses.dataclass
class NetworkFault(Fault):
    leg: int = 2
    direction: str = "both"
    # Only this tunnel's connections (every tunnel when empty).
    tunnel: str | None = None

    def __post_init__(self) -> None:
        if self.leg not in LEGS:
            raise ValueError(f"leg must be 1, 2 or 3, not {self.leg!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")

    def applies_to(self, tunnel_id: str, leg: int, direction: str | None = None) -> bool:
        if self.leg != leg or (self.tunnel and self.tunnel != tunnel_id):
            return False
        return direction is None or self.direction in ("both", direction)


@dataclasses.dataclass
class StreamFault(NetworkFault):
    """A fault on the bytes of established connections: it builds one effect per direction."""

    def effect(self):  # type: ignore[no-untyped-def]  # -> orbit_sim.streams.shaping.Effect
        raise NotImplementedError
