"""Corrupted handshake: the access point's proof on the leg arrives with a flipped bit.

Leg 1: the CHALLENGE's server proof; leg 3: the RESPONSE's client proof; leg 2: the
initiator presents a certificate from a foreign CA (plaintext WAN: a garbled preamble).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.network import LEGS, HandshakePlan, NetworkFault


@dataclasses.dataclass
class CorruptHandshake(NetworkFault):
    kind: ClassVar[str] = "corrupt_handshake"
    leg: int = setting(1, "the leg whose handshake (1, 2, 3)", choices=LEGS)

    def on_handshake(self, plan: HandshakePlan) -> None:
        plan.corrupt = True
