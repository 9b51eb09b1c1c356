"""Closing a listener access point: its WAN port stops listening and its connections close.

Every listener access point when `access_point` is empty. Removing the fault reopens it.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import Fault


@dataclasses.dataclass
class CloseListener(Fault):
    kind: ClassVar[str] = "close_listener"
    access_point: str | None = None

    def applies_to(self, access_point_id: str) -> bool:
        return not self.access_point or self.access_point == access_point_id
