"""How the gateway sees the simulator's network faults: it asks, it never names a kind.

The fault set changes from other threads; the gateway takes a snapshot when it changes
(checked at each new connection and every few milliseconds) and numbers it, so a pump
only compares one integer per read to know whether its chain is still current.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from orbit_sim.faults.effect import Chain, Effect
from orbit_sim.faults.network import GatewayFault, HandshakePlan, ListeningPort

FaultSource = Callable[[], Iterable[Any]]

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


class FaultBoard:
    """The current gateway faults, with a version number that changes with them."""

    def __init__(self, source: FaultSource | None = None) -> None:
        self._source = source
        self.version = 0
        self.faults: tuple[GatewayFault, ...] = ()

    def set_source(self, source: FaultSource | None) -> None:
        self._source = source
        self.refresh()

    def refresh(self) -> bool:
        """Re-read the fault set; True when it changed."""
        current = tuple(
            f for f in (self._source() if self._source else ()) if isinstance(f, GatewayFault)
        )
        if tuple(map(id, current)) == tuple(map(id, self.faults)):
            return False
        self.faults = current
        self.version += 1
        return True

    def closes(self, port: ListeningPort) -> bool:
        """Whether `port` must stop listening now."""
        return any(f.closes(port) for f in self.faults)


class ConnectionFaults:
    """The faults one connection sees; each fault's probability is rolled once for it."""

    def __init__(self, board: FaultBoard, tunnel_id: str) -> None:
        self._board = board
        self.tunnel_id = tunnel_id
        self._rolls: dict[str, bool] = {}

    def _hits(self, leg: int, direction: str | None = None) -> list[GatewayFault]:
        return [
            f
            for f in self._board.faults
            if f.applies_to(self.tunnel_id, leg, direction) and self._rolled(f)
        ]

    def _rolled(self, fault: GatewayFault) -> bool:
        hit = self._rolls.get(fault.id)
        if hit is None:
            hit = self._rolls[fault.id] = random.random() < fault.probability
        return hit

    def handshake(self, leg: int) -> HandshakePlan:
        """What the access point does in this connection's handshake on `leg`."""
        plan = HandshakePlan()
        for fault in self._hits(leg):
            fault.on_handshake(plan)
        return plan

    def chain_source(self, legs: Sequence[int], direction: str) -> Callable[[], Chain | None]:
        """For one pump: the chain of the effects on `legs` in `direction`, kept current
        as faults come and go (an effect keeps its state while its fault stays)."""
        board = self._board
        seen = -1
        chain: Chain | None = None
        effects: dict[str, Effect] = {}

        def current() -> Chain | None:
            nonlocal seen, chain, effects
            if board.version == seen:
                return chain
            seen = board.version
            kept: dict[str, Effect] = {}
            for leg in legs:
                for fault in self._hits(leg, direction):
                    effect = effects.get(fault.id) or fault.effect()
                    if effect is not None:
                        kept[fault.id] = effect
            effects = kept
            chain = Chain(list(effects.values())) if effects else None
            return chain

        return current
