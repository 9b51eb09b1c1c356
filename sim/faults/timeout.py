"""Timeout: bytes on the leg vanish and the connection closes `ms` milliseconds after the
fault takes hold of it (0: never closes, a blackhole), as toxiproxy's timeout."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.blackhole import Drop
from orbit_sim.faults.network import StreamFault


@dataclasses.dataclass
class DropThenClose(Drop):
    seconds: float
    _at: float | None = dataclasses.field(default=None, init=False)

    def deadline(self, now: float) -> float | None:
        if self.seconds and self._at is None:
            self._at = now + self.seconds  # from the first time a pump takes it up
        return self._at


@dataclasses.dataclass
class Timeout(StreamFault):
    kind: ClassVar[str] = "timeout"
    ms: float = setting(1000.0, "milliseconds until the connection closes (0: never)", minimum=0)

    def effect(self) -> DropThenClose:
        return DropThenClose(self.ms / 1000.0)
