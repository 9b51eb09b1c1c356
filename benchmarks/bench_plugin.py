"""Benchmark of the globus plugin on a real RADICAL Orbit deployment against the simulator.

A radical.orbit broker and an endpoint serving our ``globus`` plugin run as subprocesses
(radical.orbit's own scripts); this process holds the loopback simulator (virtual clock)
and a consumer ``EndpointRuntime``. With N active tasks in one session it prints

1. Transfer API calls per poll interval, counted at the simulator (goal: 1), next to what
   radical.orbit's own plugin polls (one ``get_task`` per active task per interval),
   measured here by running that loop against the same tasks;
2. the delay between a status change on the simulator's virtual clock and the arrival of
   its ``transfer_status`` notification at the runtime's callback, over the real broker
   (goal: median <= poll interval + 100 ms), as median / 95th percentile / max;
3. the round trip of ``get_task`` through runtime -> broker -> endpoint -> plugin ->
   simulator, median, next to a direct globus-sdk ``get_task`` on the same simulator.

Run: .venv/bin/python benchmarks/bench_plugin.py [--tasks 100] [--poll-interval 1.0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import globus_sdk
import pytest
from report import Figure, record  # benchmarks/report.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orbit_globus.transfer  # noqa: E402,F401 - get_plugin returns our client
from orbit_sim.services.auth.scopes import TRANSFER_ALL  # noqa: E402
from tests.transfer.orbit_stack import ENDPOINT, orbit_stack  # noqa: E402
from tests.transfer.simenv import GODATA, start_sim  # noqa: E402

DELAY_SLACK = 0.1


class CallCounter:
    """Counts Transfer API calls as the simulator receives them (by route kind)."""

    def __init__(self, sim: Any) -> None:
        self._real = sim.handle
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        sim.handle = self._handle

    def _handle(self, request: Any) -> Any:
        if request.service == "transfer":
            kind = "get_task" if request.path.startswith("/v0.10/task/") else request.path
            with self._lock:
                self.calls[kind] += 1
        return self._real(request)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.calls)


class Arrivals:
    """When each task's notifications reached the runtime's callback."""

    def __init__(self) -> None:
        self.first_seen: set[str] = set()
        self.final_at: dict[str, float] = {}
        self.changed = threading.Condition()

    def __call__(self, endpoint: str, plugin: str, topic: str, data: dict[str, Any]) -> None:
        now = time.monotonic()
        with self.changed:
            self.first_seen.add(data["task_id"])
            if data["status"] in ("SUCCEEDED", "FAILED"):
                self.final_at.setdefault(data["task_id"], now)
            self.changed.notify_all()

    def wait(self, predicate: Any, timeout: float = 120.0) -> None:
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise SystemExit("benchmark: notifications did not arrive in time")


def submit_batch(globus: Any, source: str, destination: str, count: int) -> list[str]:
    stamp = time.time()
    return [
        globus.submit_transfer(
            source,
            destination,
            [{"source": f"{GODATA}/file1.txt", "destination": f"/~/bench/{n}-{stamp}.txt"}],
            label=f"bench {n}",
        )["task_id"]
        for n in range(count)
    ]


def calls_per_interval(counter: CallCounter, interval: float, intervals: int) -> dict[str, float]:
    """Transfer calls per poll interval (by kind), over ``intervals`` intervals."""
    before, started = counter.snapshot(), time.monotonic()
    time.sleep(interval * intervals)
    after, elapsed = counter.snapshot(), time.monotonic() - started
    return {
        kind: (after[kind] - before[kind]) * interval / elapsed
        for kind in after
        if after[kind] > before[kind]
    }


def their_style_poll(client: globus_sdk.TransferClient, task_ids: list[str], counter: CallCounter):
    """radical.orbit's plugin poll: one get_task per active task; calls for one interval."""
    before = counter.snapshot()["get_task"]
    for task_id in task_ids:
        client.get_task(task_id)
    return counter.snapshot()["get_task"] - before


def median_ms(call: Any, rounds: int) -> float:
    call()  # warm: connections, first token use
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--intervals", type=int, default=5, help="steady-state intervals counted")
    parser.add_argument("--rounds", type=int, default=3, help="status-change rounds timed")
    parser.add_argument("--round-trips", type=int, default=200, help="get_task calls timed")
    args = parser.parse_args(argv)
    interval = args.poll_interval

    with pytest.MonkeyPatch.context() as patch, contextmanager(start_sim)(patch) as simenv:
        counter = CallCounter(simenv.sim)
        source, destination = simenv.tutorial_1, simenv.tutorial_2
        token = simenv.control.issue_tokens(TRANSFER_ALL)["access_token"]
        direct = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(token))
        with orbit_stack(simenv.server.env, interval) as orbit:
            rt = orbit.runtime()
            globus = rt.get_plugin(ENDPOINT, "globus", access_token=token)
            arrivals = Arrivals()
            globus.register_notification_callback(arrivals, topic="transfer_status")

            # 1. steady state: N tasks ACTIVE (the virtual clock stands still)
            task_ids = submit_batch(globus, source, destination, args.tasks)
            arrivals.wait(lambda: arrivals.first_seen >= set(task_ids))
            ours = calls_per_interval(counter, interval, args.intervals)
            theirs = their_style_poll(direct, task_ids, counter)

            # 3. get_task round trips, while those tasks are still there
            through_orbit = median_ms(lambda: globus.get_task(task_ids[0]), args.round_trips)
            direct_sdk = median_ms(lambda: direct.get_task(task_ids[0]), args.round_trips)

            # 2. notification delay after a status change on the virtual clock
            delays: list[float] = []
            for round_number in range(args.rounds):
                if round_number:
                    task_ids = submit_batch(globus, source, destination, args.tasks)
                    arrivals.wait(lambda ids=task_ids: arrivals.first_seen >= set(ids))
                time.sleep(random.uniform(0, interval))  # land anywhere in the poll cycle
                simenv.control.advance(60)
                changed_at = time.monotonic()
                arrivals.wait(lambda ids=task_ids: all(t in arrivals.final_at for t in ids))
                delays += [arrivals.final_at[t] - changed_at for t in task_ids]
            globus.close()

    delays.sort()
    report(args, interval, ours, theirs, delays, through_orbit, direct_sdk)
    met = sum(ours.values()) <= 1.0 and statistics.median(delays) <= interval + DELAY_SLACK
    print()
    print("goals met" if met else "goals NOT met")
    return 0 if met else 1


def report(
    args: argparse.Namespace,
    interval: float,
    ours: dict[str, float],
    theirs: int,
    delays: list[float],
    through_orbit: float,
    direct_sdk: float,
) -> None:
    per_interval = sum(ours.values())
    print(f"globus plugin on radical.orbit: {args.tasks} active tasks, poll every {interval:g} s")
    print()
    print(f"{'Transfer calls per poll interval (at the simulator)':<52}{'ours':>8}{'theirs':>9}")
    print(f"{'  all Transfer calls':<52}{per_interval:>8.2f}{theirs:>9d}")
    for kind, count in sorted(ours.items()):
        print(f"{'    ' + kind:<52}{count:>8.2f}")
    print()
    print(f"notification delay after a status change, over the broker ({len(delays)} samples)")
    p95 = delays[int(0.95 * (len(delays) - 1))]
    for name, value in (
        ("median", statistics.median(delays)),
        ("95th percentile", p95),
        ("max", delays[-1]),
    ):
        print(f"  {name:<50}{value * 1000:>8.0f} ms   {value / interval:.2f} x interval")
    goal = interval + DELAY_SLACK
    print(f"  {'goal (median): poll interval + 100 ms':<50}{goal * 1000:>8.0f} ms")
    print()
    print(f"get_task round trip, median of {args.round_trips}")
    print(f"  {'runtime -> broker -> endpoint -> plugin -> sim':<50}{through_orbit:>8.2f} ms")
    print(f"  {'direct globus-sdk -> sim (reference)':<50}{direct_sdk:>8.2f} ms")
    print(f"  {'added by radical.orbit + plugin':<50}{through_orbit - direct_sdk:>8.2f} ms")
    median = statistics.median(delays)
    record(
        Figure(
            "plugin",
            f"Transfer calls per poll interval, {args.tasks} tasks (radical.orbit's own: {theirs})",
            f"{per_interval:.2f}",
            "1",
            per_interval <= 1.0,
        ),
        Figure(
            "plugin",
            f"notification delay over the real broker, median ({interval:g} s polls)",
            f"{median * 1000:.0f} ms",
            f"<= {goal * 1000:.0f} ms",
            median <= goal,
        ),
        Figure(
            "plugin",
            f"get_task via runtime+broker+endpoint (direct globus-sdk: {direct_sdk:.1f} ms)",
            f"{through_orbit:.1f} ms",
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
