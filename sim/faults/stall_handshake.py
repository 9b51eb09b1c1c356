"""Stalled handshake: the access point on the leg goes silent during the handshake.

Leg 1: the initiator access point reads the HELLO and never answers. Leg 2: the initiator
access point never completes its WAN connection, so the application's connection ends
with the access point's handshake timeout. Leg 3: the listener access point connects to
the listening application and never sends its HELLO.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.network import LEGS, HandshakePlan, NetworkFault


@dataclasses.dataclass
class StallHandshake(NetworkFault):
    kind: ClassVar[str] = "stall_handshake"
    leg: int = setting(1, "the leg whose handshake (1, 2, 3)", choices=LEGS)

    def on_handshake(self, plan: HandshakePlan) -> None:
        plan.stall = True
