"""Reset after N bytes: the leg carries `bytes` bytes, then the connection is reset (RST)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from orbit_sim.faults.base import setting
from orbit_sim.faults.effect import Effect, Piece
from orbit_sim.faults.network import StreamFault


@dataclasses.dataclass
class Cutoff(Effect):
    """Passes exactly `limit` bytes, then asks for the connection to end: reset, or
    close (FIN) when `clean`."""

    limit: int
    clean: bool = False
    _passed: int = dataclasses.field(default=0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        out: list[Piece] = []
        for ready, data in pieces:
            room = self.limit - self._passed
            if room <= 0:
                break
            out.append((ready, data[:room]))
            self._passed += min(room, len(data))
        if self._passed >= self.limit:
            if self.clean:
                self.close = True
            else:
                self.reset = True
        return out


@dataclasses.dataclass
class ResetAfter(StreamFault):
    kind: ClassVar[str] = "reset_after"
    bytes: int = setting(0, "bytes that pass before the reset", minimum=0)

    def effect(self) -> Cutoff:
        return Cutoff(self.bytes)
