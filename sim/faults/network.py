"""Base of the network faults: the questions the stream access points ask a fault.

Legs (SPEC 5.2): 1 application -> initiator access point, 2 the WAN leg between the access
points, 3 listener access point -> listening application. Upstream is the direction from
the initiating application towards the listening one.

The access points never know fault kinds by name. For each connection they ask every
fault, per leg, what happens to the handshake (`on_handshake` marks a `HandshakePlan`)
and, per leg and direction, what happens to the bytes (`effect`); for each listening
port they ask whether it stops listening (`closes`). A fault answers only for the legs,
directions and tunnels it was given; its `probability` (toxiproxy's toxicity) is rolled
once per connection.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from orbit_sim.faults.base import Fault, setting

if TYPE_CHECKING:
    from orbit_sim.faults.effect import Effect

LEGS = (1, 2, 3)
DIRECTIONS = ("upstream", "downstream", "both")


@dataclasses.dataclass
class HandshakePlan:
    """What the access point does in one leg's handshake of one connection."""

    refuse: bool = False  # do not connect (leg 1: close the accepted connection)
    stall: bool = False  # go silent
    corrupt: bool = False  # send a proof with a flipped bit (leg 2: a foreign certificate)


@dataclasses.dataclass(frozen=True)
class ListeningPort:
    """A port the gateway listens on: a tunnel's initiator port (leg 1) or a listener
    access point's WAN port (leg 2)."""

    leg: int
    tunnel_id: str | None = None
    access_point_id: str | None = None


@dataclasses.dataclass
class GatewayFault(Fault):
    """A fault the stream gateway consults; every answer defaults to "no effect"."""

    def applies_to(self, tunnel_id: str, leg: int, direction: str | None = None) -> bool:
        return False

    def on_handshake(self, plan: HandshakePlan) -> None:
        """Change the plan of a handshake on a leg this fault applies to."""

    def effect(self) -> Effect | None:
        """A fresh per-connection effect on the bytes of a leg and direction it applies to."""
        return None

    def closes(self, port: ListeningPort) -> bool:
        """True when `port` must stop listening while this fault is active."""
        return False


@dataclasses.dataclass
class NetworkFault(GatewayFault):
    """A fault on one leg of a tunnel's connections (its handshake, or its bytes)."""

    leg: int = setting(
        2, "1 app -> initiator AP, 2 WAN between the APs, 3 listener AP -> app", choices=LEGS
    )
    tunnel: str | None = setting(None, "only this tunnel's connections (default: every tunnel)")

    def applies_to(self, tunnel_id: str, leg: int, direction: str | None = None) -> bool:
        return self.leg == leg and (not self.tunnel or self.tunnel == tunnel_id)


@dataclasses.dataclass
class StreamFault(NetworkFault):
    """A fault on the bytes of one leg, in one direction or both."""

    direction: str = setting(
        "both",
        "upstream (initiating app -> listening app), downstream, or both",
        choices=DIRECTIONS,
    )

    def applies_to(self, tunnel_id: str, leg: int, direction: str | None = None) -> bool:
        if not super().applies_to(tunnel_id, leg):
            return False
        return direction is None or self.direction in ("both", direction)
