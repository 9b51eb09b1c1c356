"""Refused connection: connecting on the leg fails.

Leg 1: the tunnel's initiator port stops listening (ECONNREFUSED; with a probability
below 1, the accepted connection is closed at once instead); leg 2: the initiator access
point cannot reach the listener access point; leg 3: the listener access point acts as
if the listening application refused. Removing the fault listens again on the same ports.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.network import LEGS, HandshakePlan, ListeningPort, NetworkFault


@dataclasses.dataclass
class Refuse(NetworkFault):
    kind: ClassVar[str] = "refuse"
    leg: int = setting(1, "the leg whose handshake (1, 2, 3)", choices=LEGS)

    def on_handshake(self, plan: HandshakePlan) -> None:
        plan.refuse = True

    def closes(self, port: ListeningPort) -> bool:
        # A port refuses everyone or no one: a chance per connection is rolled at accept.
        return (
            port.leg == 1
            and self.leg == 1
            and self.probability >= 1.0
            and port.tunnel_id is not None
            and self.applies_to(port.tunnel_id, 1)
        )
