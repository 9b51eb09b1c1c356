"""Latency: every byte on the leg arrives `ms` milliseconds late, give or take up to
`jitter_ms` (drawn per read, as toxiproxy's jitter; bytes never overtake each other)."""

from __future__ import annotations

import dataclasses
import random
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.effect import Effect, Piece
from orbit_sim.faults.network import StreamFault


@dataclasses.dataclass
class Delay(Effect):
    seconds: float
    jitter: float = 0.0
    _last: float = dataclasses.field(default=0.0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        out = []
        for ready, data in pieces:
            delay = self.seconds
            if self.jitter:
                delay = max(0.0, delay + random.uniform(-self.jitter, self.jitter))
            # TCP keeps order: a piece never leaves before the one read before it.
            self._last = max(self._last, ready + delay)
            out.append((self._last, data))
        return out


@dataclasses.dataclass
class Latency(StreamFault):
    kind: ClassVar[str] = "latency"
    ms: float = setting(100.0, "milliseconds every byte is late", minimum=0)
    jitter_ms: float = setting(
        0.0, "up to this many milliseconds more or less, drawn per read", minimum=0
    )

    def effect(self) -> Delay:
        return Delay(self.ms / 1000.0, self.jitter_ms / 1000.0)
