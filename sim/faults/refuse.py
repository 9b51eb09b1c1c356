"""Refused connection: connecting on the leg fails with ECONNREFUSED.

Leg 1: the tunnel's initiator port stops listening; leg 2: the listener access point's
WAN port stops listening; leg 3: the listener access point acts as if the listening
application refused. Removing the fault listens again on the same ports.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.network import NetworkFault


@dataclasses.dataclass
class Refuse(NetworkFault):
    kind: ClassVar[str] = "refuse"
    leg: int = 1
