"""Slicer: bytes on the leg are cut into slices of `average_size` ± `size_variation`
bytes, each written on its own, `delay_us` microseconds apart (as toxiproxy's slicer).
Readers see many short reads instead of a few long ones; the bytes are unchanged."""

from __future__ import annotations

import dataclasses
import random
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.effect import Effect, Piece
from orbit_sim.faults.network import StreamFault


@dataclasses.dataclass
class Slices(Effect):
    average: int
    variation: int
    gap: float
    _last: float = dataclasses.field(default=0.0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        out: list[Piece] = []
        for ready, data in pieces:
            start = 0
            while start < len(data):
                size = self.average + random.randint(-self.variation, self.variation)
                self._last = max(ready, self._last + self.gap)
                out.append((self._last, data[start : start + size]))
                start += size
        return out


@dataclasses.dataclass
class Slicer(StreamFault):
    kind: ClassVar[str] = "slicer"
    average_size: int = setting(64, "average bytes per slice", minimum=1)
    size_variation: int = setting(
        0, "slices are average_size ± up to this many bytes (less than average_size)", minimum=0
    )
    delay_us: int = setting(0, "microseconds between slices", minimum=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.size_variation >= self.average_size:
            raise ValueError("slicer needs 0 <= size_variation < average_size")

    def effect(self) -> Slices:
        return Slices(self.average_size, self.size_variation, self.delay_us / 1e6)
