"""Latency: every byte on the leg arrives `ms` milliseconds late."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from orbit_sim.faults.network import StreamFault

if TYPE_CHECKING:
    from orbit_sim.streams.shaping import Delay


@dataclasses.dataclass
class Latency(StreamFault):
    kind: ClassVar[str] = "latency"
    ms: float = 100.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ms < 0:
            raise ValueError("latency ms must be >= 0")

    def effect(self) -> Delay:
        from orbit_sim.streams.shaping import Delay

        return Delay(self.ms / 1000.0)
