"""How the gateway sees the simulator's network faults.

The fault set changes from other threads; the gateway takes a snapshot when it changes
(checked at each new connection and every few milliseconds) and numbers it, so a pump
only compares one integer per read to know whether its chain is still current.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from orbit_sim.faults.close_listener import CloseListener
from orbit_sim.faults.network import NetworkFault, StreamFault

from .shaping import Chain

FaultSource = Callable[[], Iterable[Any]]

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


class FaultBoard:
    """The current network faults, with a version number that changes with them."""

    def __init__(self, source: FaultSource | None = None) -> None:
        self._source = source
        self.version = 0
        self.faults: tuple[NetworkFault | CloseListener, ...] = ()

    def set_source(self, source: FaultSource | None) -> None:
        self._source = source
        self.refresh()

    def refresh(self) -> bool:
        """Re-read the fault set; True when it changed."""
        current = tuple(
            f
            for f in (self._source() if self._source else ())
            if isinstance(f, NetworkFault | CloseListener)
        )
        if tuple(map(id, current)) == tuple(map(id, self.faults)):
            return False
        self.faults = current
        self.version += 1
        return True

    def of_kind(self, kind: str) -> list[Any]:
        return [f for f in self.faults if f.kind == kind]


class ConnectionFaults:
    """The faults one connection sees; each fault's probability is rolled once for it."""

    def __init__(self, board: FaultBoard, tunnel_id: str) -> None:
        self._board = board
        self.tunnel_id = tunnel_id
        self._rolls: dict[str, bool] = {}

    def _rolled(self, fault: NetworkFault) -> bool:
        hit = self._rolls.get(fault.id)
        if hit is None:
            hit = self._rolls[fault.id] = random.random() < fault.probability
        return hit

    def active(self, kind: str, leg: int) -> bool:
        return any(
            f.applies_to(self.tunnel_id, leg) and self._rolled(f) for f in self._board.of_kind(kind)
        )

    def chain_source(self, legs: Sequence[int], direction: str) -> Callable[[], Chain | None]:
        """For one pump: the chain of the stream faults on `legs` in `direction`, kept
        current as faults come and go (an effect keeps its state while its fault stays)."""
        board = self._board
        seen = -1
        chain: Chain | None = None
        effects: dict[str, Any] = {}

        def current() -> Chain | None:
            nonlocal seen, chain, effects
            if board.version == seen:
                return chain
            seen = board.version
            faults = [
                f
                for leg in legs
                for f in board.faults
                if isinstance(f, StreamFault)
                and f.applies_to(self.tunnel_id, leg, direction)
                and self._rolled(f)
            ]
            effects = {f.id: effects.get(f.id) or f.effect() for f in faults}
            chain = Chain(list(effects.values())) if effects else None
            return chain

        return current
