"""Limit data: the leg carries `bytes` bytes, then the connection closes cleanly (FIN),
as toxiproxy's limit_data (reset_after ends it with a reset instead)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.network import StreamFault
from orbit_sim.faults.reset_after import Cutoff


@dataclasses.dataclass
class LimitData(StreamFault):
    kind: ClassVar[str] = "limit_data"
    bytes: int = setting(0, "bytes that pass before the close", minimum=0)

    def effect(self) -> Cutoff:
        return Cutoff(self.bytes, clean=True)
