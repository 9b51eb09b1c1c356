"""Reset after N bytes: the leg carries `bytes` bytes, then the connection is reset."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from orbit_sim.faults.network import StreamFault

if TYPE_CHECKING:
    from orbit_sim.streams.shaping import Cutoff


@dataclasses.dataclass
class ResetAfter(StreamFault):
    kind: ClassVar[str] = "reset_after"
    bytes: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.bytes < 0:
            raise ValueError("reset_after bytes must be >= 0")

    def effect(self) -> Cutoff:
        from orbit_sim.streams.shaping import Cutoff

        return Cutoff(self.bytes)
