"""What a network fault does to the bytes of one connection in one direction.

Bytes travel as pieces `(ready_at, data)`: `ready_at` is the loop time before which the
piece may not be written on. Each effect takes the pieces read so far and returns the
pieces to pass on, so effects compose in a chain like toxiproxy's toxics. Effects hold
per-connection state (a byte count, the time the link is next free); each fault file
defines its own effect beside its settings.
"""

from __future__ import annotations

from dataclasses import dataclass

Piece = tuple[float, bytes]


class Effect:
    """Passes bytes through unchanged; subclasses change timing, content or the ending."""

    #: set once the connection must be reset after the pieces already passed on are delivered
    reset: bool = False
    #: set once the connection must close (FIN) after the pieces already passed on are delivered
    close: bool = False
    #: seconds a half-close (FIN) waits before it is passed on
    close_delay: float = 0.0

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        return pieces

    def deadline(self, now: float) -> float | None:
        """The loop time at which the connection closes whatever flows (None: never).
        Asked when the pump takes the effect up; `now` is the loop's time then."""
        return None


@dataclass
class Chain:
    """Effects applied in order; the connection ends the way the first effect asks."""

    effects: list[Effect]

    def feed(self, pieces: list[Piece]) -> list[Piece]:
        for effect in self.effects:
            pieces = effect.feed(pieces)
        return pieces

    @property
    def reset(self) -> bool:
        return any(effect.reset for effect in self.effects)

    @property
    def close(self) -> bool:
        return any(effect.close for effect in self.effects)

    @property
    def close_delay(self) -> float:
        return max((effect.close_delay for effect in self.effects), default=0.0)

    def deadline(self, now: float) -> float | None:
        deadlines = [d for e in self.effects if (d := e.deadline(now)) is not None]
        return min(deadlines, default=None)
