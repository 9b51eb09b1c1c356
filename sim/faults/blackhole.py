"""Blackhole: bytes on the leg vanish; the connection stays open until someone gives up."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from orbit_sim.faults.network import StreamFault

if TYPE_CHECKING:
    from orbit_sim.streams.shaping import Drop


@dataclasses.dataclass
class Blackhole(StreamFault):
    kind: ClassVar[str] = "blackhole"

    def effect(self) -> Drop:
        from orbit_sim.streams.shaping import Drop

        return Drop()
