"""Closing a listener access point: its WAN port stops listening and its connections close.

Every listener access point when `access_point` is empty. Removing the fault reopens it.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.network import GatewayFault, ListeningPort


@dataclasses.dataclass
class CloseListener(GatewayFault):
    kind: ClassVar[str] = "close_listener"
    access_point: str | None = setting(None, "this listener access point (default: every one)")

    def closes(self, port: ListeningPort) -> bool:
        return port.leg == 2 and (
            not self.access_point or self.access_point == port.access_point_id
        )
