"""The simulator's clock: real (wall time plus an offset) or virtual (moves only on advance).

Everything with a lifetime (tokens, tunnels, task progress) reads `now()`. Listeners
registered with `on_advance` run after every `advance`, so time-driven state changes
(tunnel expiry closing the gateway, task progress) happen at the moment time moves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

ClockMode = Literal["real", "virtual"]


class Clock:
    """Unix-seconds clock. `advance` works in both modes (real mode keeps an offset)."""

    def __init__(self, mode: ClockMode = "virtual", start: float | None = None) -> None:
        if mode not in ("real", "virtual"):
            raise ValueError(f"clock mode must be 'real' or 'virtual', not {mode!r}")
        self.mode: ClockMode = mode
        self._lock = threading.Lock()
        self._virtual_now = time.time() if start is None else float(start)
        self._offset = 0.0
        self._listeners: list[Callable[[float], None]] = []

    @property
    def is_virtual(self) -> bool:
        return self.mode == "virtual"

    def now(self) -> float:
        if self.mode == "virtual":
            return self._virtual_now
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` (>= 0) and run the listeners; returns the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self.mode == "virtual":
                self._virtual_now += seconds
            else:
                self._offset += seconds
        now = self.now()
        for listener in list(self._listeners):
            listener(now)
        return now

    def on_advance(self, listener: Callable[[float], None]) -> None:
        self._listeners.append(listener)

    def sleep(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass: advance a virtual clock, sleep on a real one."""
        if self.mode == "virtual":
            self.advance(seconds)
        else:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return f"Clock(mode={self.mode!r}, now={self.now():.3f})"
