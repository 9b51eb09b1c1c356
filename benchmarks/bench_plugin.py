"""Benchmark of the globus plugin's task poller against the loopback simulator.

With N active tasks in one session it prints

1. Transfer API calls per poll interval, counted at the simulator (goal: 1), next to a
   reference poller measured in the same run that calls get_task once per task per
   interval (what the original orbit plugin does);
2. the delay between a status change on the simulator's virtual clock and the arrival
   of its transfer_status notification at the application (goal: <= one poll interval
   + 100 ms), as median / 95th percentile / max, next to the poll interval.

Run: .venv/bin/python benchmarks/bench_plugin.py [--tasks 100] [--poll-interval 1.0]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import globus_sdk
from report import Figure, record  # benchmarks/report.py, beside this script

import orbit_sim
from orbit_globus.endpoint.app import build_app
from orbit_globus.endpoint.client import EndpointClient
from orbit_globus.endpoint.server import ThreadedHost
from orbit_globus.transfer.client import GlobusClient
from orbit_globus.transfer.plugin import Plugin
from orbit_sim.control.client import SimControl
from orbit_sim.services.auth.scopes import TRANSFER_ALL

GODATA = "/home/share/godata"
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
    """When each task's final notification reached the application."""

    def __init__(self) -> None:
        self.first_seen: set[str] = set()
        self.final_at: dict[str, float] = {}
        self.changed = threading.Condition()

    def __call__(self, topic: str, data: dict[str, Any]) -> None:
        now = time.monotonic()
        if topic != "transfer_status":
            return
        with self.changed:
            self.first_seen.add(data["task_id"])
            if data["status"] in ("SUCCEEDED", "FAILED"):
                self.final_at.setdefault(data["task_id"], now)
            self.changed.notify_all()

    def wait(self, predicate: Any, timeout: float = 120.0) -> None:
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise SystemExit("benchmark: notifications did not arrive in time")


@contextmanager
def simulator() -> Iterator[tuple[Any, SimControl]]:
    sim = orbit_sim.Simulator(clock="virtual")
    server = orbit_sim.serve(sim)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in server.env.items() if k.startswith("GLOBUS_SDK_")})
    control = SimControl(server.env["ORBIT_SIM_URL"])
    try:
        yield sim, control
    finally:
        control.close()
        server.stop()
        sim.close()
        os.environ.clear()
        os.environ.update(saved)


def submit_batch(globus: GlobusClient, source: str, destination: str, count: int) -> list[str]:
    return [
        globus.submit_transfer(
            source,
            destination,
            [{"source": f"{GODATA}/file1.txt", "destination": f"/~/bench/{n}-{time.time()}.txt"}],
            label=f"bench {n}",
        )["task_id"]
        for n in range(count)
    ]


def calls_per_poll(
    counter: CallCounter, poller: Any, interval: float, intervals: int
) -> tuple[dict[str, float], int]:
    """Transfer calls per poll cycle (by kind) over ``intervals`` poll intervals."""
    calls_before, polls_before = counter.snapshot(), poller.polls
    time.sleep(interval * intervals)
    calls_after, polls = counter.snapshot(), poller.polls - polls_before
    if polls == 0:
        raise SystemExit("benchmark: the poller did not poll")
    per_poll = {
        kind: (calls_after[kind] - calls_before[kind]) / polls
        for kind in calls_after
        if calls_after[kind] > calls_before[kind]
    }
    return per_poll, polls


def reference_poller(token: str, task_ids: list[str], counter: CallCounter) -> int:
    """One get_task per task, as the reference plugin polls: calls for one interval."""
    client = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(token))
    before = counter.snapshot()["get_task"]
    for task_id in task_ids:
        client.get_task(task_id)
    return counter.snapshot()["get_task"] - before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--intervals", type=int, default=5, help="steady-state intervals counted")
    parser.add_argument("--rounds", type=int, default=5, help="status-change rounds timed")
    args = parser.parse_args(argv)
    interval = args.poll_interval

    with simulator() as (sim, control):
        counter = CallCounter(sim)
        source, destination = sim.world.collections[0], sim.world.collections[1]
        token = control.issue_tokens(TRANSFER_ALL)["access_token"]
        plugin = Plugin(poll_interval=interval)
        with ThreadedHost(build_app([plugin])) as host, EndpointClient(host.url) as endpoint:
            globus = endpoint.get_plugin("globus")
            globus.register_session(access_token=token)
            arrivals = Arrivals()
            globus.on_notification(arrivals)

            # 1. steady state: N tasks ACTIVE (the virtual clock stands still)
            task_ids = submit_batch(globus, source, destination, args.tasks)
            arrivals.wait(lambda: arrivals.first_seen >= set(task_ids))
            (session,) = plugin.sessions_of(endpoint.client_id)
            ours, polls = calls_per_poll(counter, session.poller, interval, args.intervals)
            reference = reference_poller(token, task_ids, counter)

            # 2. notification delay after a status change on the virtual clock
            delays: list[float] = []
            for round_number in range(args.rounds):
                if round_number:
                    task_ids = submit_batch(globus, source, destination, args.tasks)
                    arrivals.wait(lambda ids=task_ids: arrivals.first_seen >= set(ids))
                time.sleep(random.uniform(0, interval))  # land anywhere in the poll cycle
                control.advance(60)
                changed_at = time.monotonic()
                arrivals.wait(lambda ids=task_ids: all(t in arrivals.final_at for t in ids))
                delays += [arrivals.final_at[t] - changed_at for t in task_ids]
            globus.close()

    delays.sort()
    report(args, interval, ours, polls, reference, delays)
    met = sum(ours.values()) <= 1.0 and delays[-1] <= interval + DELAY_SLACK
    print()
    print("goals met" if met else "goals NOT met")
    return 0 if met else 1


def report(
    args: argparse.Namespace,
    interval: float,
    ours: dict[str, float],
    polls: int,
    reference: int,
    delays: list[float],
) -> None:
    per_interval = sum(ours.values())
    print(
        f"globus plugin poller: {args.tasks} active tasks in one session, poll every {interval:g} s"
    )
    print()
    print(f"{'API calls per poll interval (at the simulator)':<48}{'plugin':>8}{'reference':>11}")
    print(f"{'  all Transfer calls':<48}{per_interval:>8.2f}{reference:>11d}")
    for kind, count in sorted(ours.items()):
        print(f"{'    ' + kind:<48}{count:>8.2f}")
    print(f"{'  polls counted':<48}{polls:>8d}")
    print(f"{'  ratio plugin / reference (goal: 1 call)':<48}{per_interval / reference:>8.3f}")
    print()
    print(f"notification delay after a status change ({len(delays)} samples)")
    p95 = delays[int(0.95 * (len(delays) - 1))]
    for name, value in (
        ("median", statistics.median(delays)),
        ("95th percentile", p95),
        ("max", delays[-1]),
    ):
        print(f"  {name:<46}{value * 1000:>8.0f} ms   {value / interval:.2f} x interval")
    goal = interval + DELAY_SLACK
    record(
        Figure(
            "plugin",
            f"Transfer calls per poll, {args.tasks} active tasks (get_task-per-task: {reference})",
            f"{per_interval:.2f}",
            "1",
            per_interval <= 1.0,
        ),
        Figure(
            "plugin",
            f"notification delay after a status change, median ({interval:g} s polls)",
            f"{statistics.median(delays) * 1000:.0f} ms",
            f"<= {goal * 1000:.0f} ms",
            statistics.median(delays) <= goal,
        ),
    )
    label = "goal: poll interval + 100 ms"
    print(f"  {label:<46}{goal * 1000:>8.0f} ms   {goal / interval:.2f} x interval")


if __name__ == "__main__":
    raise SystemExit(main())
