"""globus-sdk's retry sleeps on the simulator's clock.

globus-sdk retries 429/5xx answers itself and sleeps between attempts (exponential backoff,
or the `Retry-After` seconds) in `RequestsTransport._retry_sleep`, its one sleep hook. A test
of those faults would wait through every sleep in wall time, while the simulator's tokens,
tunnels and tasks live on its virtual clock. Here the hook computes the same period as
globus-sdk does and lets it pass on the simulator's clock instead (a virtual clock advances,
a real one sleeps), and keeps a record of each period for the test to assert on::

    with retry_sleeps_on(sim.clock) as slept:
        tc.get_task(task_id)           # two 503s with Retry-After: 5, then 200
    assert slept == [5.0, 5.0]
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from orbit_sim.core.clock import Clock

__all__ = ["retry_sleeps_on"]

_patch_lock = threading.Lock()


@contextlib.contextmanager
def retry_sleeps_on(clock: Clock, record: list[float] | None = None) -> Iterator[list[float]]:
    """Within the block, globus-sdk's retry sleeps pass on `clock`; yields the list their
    periods are appended to (`record`, or a new one)."""
    from globus_sdk.transport import RequestsTransport

    slept: list[float] = [] if record is None else record

    def sleep_on_clock(self: Any, retry_config: Any, ctx: Any) -> None:
        # The period globus-sdk itself computes: the backoff (Retry-After when the check
        # set one) capped at max_sleep.
        period = float(min(retry_config.backoff(ctx), retry_config.max_sleep))
        slept.append(period)
        clock.sleep(period)

    with _patch_lock:
        original = RequestsTransport.__dict__.get("_retry_sleep")
        if original is None:
            raise RuntimeError(
                "this globus-sdk has no RequestsTransport._retry_sleep hook; "
                "retry sleeps cannot move to the virtual clock"
            )
        RequestsTransport._retry_sleep = sleep_on_clock  # type: ignore[method-assign]
    try:
        yield slept
    finally:
        with _patch_lock:
            RequestsTransport._retry_sleep = original  # type: ignore[method-assign]
