"""Bandwidth cap: the leg carries at most `kib_per_s` KiB per second in each direction."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from orbit_sim.faults.network import StreamFault

if TYPE_CHECKING:
    from orbit_sim.streams.shaping import RateLimit


@dataclasses.dataclass
class Bandwidth(StreamFault):
    kind: ClassVar[str] = "bandwidth"
    kib_per_s: float = 1024.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kib_per_s <= 0:
            raise ValueError("bandwidth kib_per_s must be > 0")

    def effect(self) -> RateLimit:
        from orbit_sim.streams.shaping import RateLimit

        return RateLimit(self.kib_per_s * 1024.0)
