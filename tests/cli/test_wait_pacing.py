"""`tunnel wait`'s loop against the in-process simulator: how often it asks Transfer.

Time is a counter advanced by the recorded sleeps, so the pace is checked without timing.
"""

from __future__ import annotations

import pytest

from orbit_globus.login import Globus
from orbit_globus.streams import remote
from orbit_globus.streams.errors import ExitCode, StreamsError


class FakeTime:
    """`sleep` and `clock` for the loop: sleeping moves the clock, `then` acts at a pause."""

    def __init__(self, then: dict[int, object] | None = None) -> None:
        self.now = 0.0
        self.pauses: list[float] = []
        self.then = then or {}

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds
        action = self.then.get(len(self.pauses))
        if callable(action):
            action()


def test_quick_first_looks_then_one_request_a_second(sim, tunnel):
    model = sim.transfer.get_tunnel(tunnel)
    fake = FakeTime({8: lambda: sim.transfer.set_listener_contact(model, "127.0.0.1", 9)})
    reached = remote.wait_for_state(
        Globus(), tunnel, "ACTIVE", None, sleep=fake.sleep, clock=fake.clock
    )
    assert reached.state == "ACTIVE"
    assert fake.pauses == [0.1, 0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert min(fake.pauses) >= 0.1  # never a busy loop


def test_the_last_look_is_at_the_deadline(sim, tunnel):
    fake = FakeTime()
    with pytest.raises(StreamsError) as caught:
        remote.wait_for_state(Globus(), tunnel, "ACTIVE", 2.5, sleep=fake.sleep, clock=fake.clock)
    assert caught.value.exit_code == ExitCode.TIMEOUT
    assert fake.pauses == pytest.approx([0.1, 0.25, 0.5, 1.0, 0.65]) and fake.now == 2.5


@pytest.mark.parametrize(
    "state, target, reached, unreachable",
    [
        ("ACTIVE", "ACTIVE", True, False),
        ("STOPPED", "STOPPING", True, False),
        ("STOPPING", "STOPPED", False, False),
        ("STOPPED", "ACTIVE", False, True),
        ("ACTIVE", "AWAITING_LISTENER", False, True),
        ("FAILED", "STOPPED", False, True),
        ("AWAITING_LISTENER", "STOPPED", False, False),
    ],
)
def test_which_states_end_the_wait(state, target, reached, unreachable):
    assert remote.state_reached(state, target) is reached
    assert remote.state_unreachable(state, target) is unreachable
