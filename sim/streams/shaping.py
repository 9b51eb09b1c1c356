"""What a network fault does to the bytes of one connection in one direction.

Bytes travel as pieces `(ready_at, data)`: `ready_at` is the loop time before which the
piece may not be written on. Each effect takes the pieces read so far and returns the
pieces to pass on, so effects compose in a chain like toxiproxy's toxics. Effects hold
per-connection state (a byte count, the time the link is next free).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Piece = tuple[float, bytes]


class Effect:
    """Passes bytes through unchanged; subclasses change timing or content."""

    #: set once the leg must be reset after the pieces already passed on are delivered
    reset: bool = False

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        return pieces


@dataclass
class Delay(Effect):
    """Every byte arrives `seconds` later than it was sent."""

    seconds: float

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        return [(ready + self.seconds, data) for ready, data in pieces]


@dataclass
class RateLimit(Effect):
    """A link of `bytes_per_second`: each slice leaves once the link has carried it."""

    bytes_per_second: float
    _free_at: float = field(default=0.0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        # Slices of ~20 ms of traffic keep the flow smooth rather than bursty.
        step = max(1, int(self.bytes_per_second / 50))
        out: list[Piece] = []
        for ready, data in pieces:
            for start in range(0, len(data), step):
                chunk = data[start : start + step]
                self._free_at = max(self._free_at, ready) + len(chunk) / self.bytes_per_second
                out.append((self._free_at, chunk))
        return out


@dataclass
class Cutoff(Effect):
    """Passes exactly `limit` bytes, then asks for the connection to be reset."""

    limit: int
    _passed: int = field(default=0, init=False)

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        out: list[Piece] = []
        for ready, data in pieces:
            room = self.limit - self._passed
            if room <= 0:
                break
            out.append((ready, data[:room]))
            self._passed += min(room, len(data))
        if self._passed >= self.limit:
            self.reset = True
        return out


class Drop(Effect):
    """A blackhole: bytes go in, nothing comes out."""

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        return []


@dataclass
class Chain:
    """Effects applied in order; `reset` once any of them asks for it."""

    effects: list[Effect]

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        for effect in self.effects:
            pieces = effect.feed(pieces)
        return pieces

    @property
    def reset(self) -> bool:
        return any(effect.reset for effect in self.effects)
