"""Blackhole: bytes on the leg vanish; the connection stays open until someone gives up."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.effect import Effect, Piece
from orbit_sim.faults.network import StreamFault


class Drop(Effect):
    """Bytes go in, nothing comes out."""

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        return []


@dataclasses.dataclass
class Blackhole(StreamFault):
    kind: ClassVar[str] = "blackhole"

    def effect(self) -> Drop:
        return Drop()
