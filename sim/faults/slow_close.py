"""Slow close: when one side ends its stream (FIN), the end reaches the other side
`ms` milliseconds late, as toxiproxy's slow_close. Bytes are not delayed."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.effect import Effect
from orbit_sim.faults.network import StreamFault


@dataclasses.dataclass
class HeldClose(Effect):
    close_delay: float = 0.0


@dataclasses.dataclass
class SlowClose(StreamFault):
    kind: ClassVar[str] = "slow_close"
    ms: float = setting(1000.0, "milliseconds the end of stream (FIN) is held back", minimum=0)

    def effect(self) -> HeldClose:
        return HeldClose(self.ms / 1000.0)
