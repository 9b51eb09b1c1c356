"""Bandwidth cap: the leg carries at most `kib_per_s` KiB per second."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.effect import Effect, Piece
from orbit_sim.faults.network import StreamFault

SLICES_PER_SECOND = 50  # ~20 ms of traffic per slice: smooth rather than bursty


@dataclasses.dataclass
class RateLimit(Effect):
    """A link of `bytes_per_second`: each slice leaves once the link has carried it."""

    bytes_per_second: float
    _free_at: float = dataclasses.field(default=0.0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        step = max(1, int(self.bytes_per_second / SLICES_PER_SECOND))
        out: list[Piece] = []
        for ready, data in pieces:
            for start in range(0, len(data), step):
                chunk = data[start : start + step]
                self._free_at = max(self._free_at, ready) + len(chunk) / self.bytes_per_second
                out.append((self._free_at, chunk))
        return out


@dataclasses.dataclass
class Bandwidth(StreamFault):
    kind: ClassVar[str] = "bandwidth"
    kib_per_s: float = setting(1024.0, "the most KiB per second the leg carries", above=0)

    def effect(self) -> RateLimit:
        return RateLimit(self.kib_per_s * 1024.0)
