"""Simulated Transfer figures in one run, each beside a reference measured in the same run.

    .venv/bin/python benchmarks/bench_sim_transfer.py [--calls 2000] [--files 100000]

- `get_task` through an unmodified TransferClient from one thread, in-process
  (`mock_globus`) and over the loopback server; references: the same SDK call answered
  with a canned task document by a bare `responses` callback / a bare keep-alive
  http.server, i.e. the floor the transport alone costs.
- `operation_ls` of a 10,000-entry directory (median ms), beside the same SDK call
  answered with the canned listing body; and the first listing alone (nothing cached).
- a recursive transfer of N files (default 100,000) run to SUCCEEDED on the virtual
  clock: seconds for submit + run; and tracemalloc's peak growth per file for several N
  (constant = memory grows with the file count, not faster), beside the memory per file
  of the source tree itself.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import globus_sdk
import responses
from globus_sdk.scopes import TransferScopes
from references import canned_http_server  # benchmarks/references.py
from report import Figure, record  # benchmarks/report.py, beside this script

import orbit_sim
from orbit_sim.inprocess import mock_globus

AREA = "sim-transfer"
TRANSFER_URL = "https://transfer.api.globus.org"
LS_ENTRIES = 10_000


# -- helpers ----------------------------------------------------------------------------------


def login(sim: orbit_sim.Simulator, auth_url: str | None, transfer_url: str | None) -> Any:
    world = sim.world
    auth = globus_sdk.ConfidentialAppAuthClient(
        world.client_id, world.client_secret, **({"base_url": auth_url} if auth_url else {})
    )
    tokens = auth.oauth2_client_credentials_tokens(requested_scopes=TransferScopes.all)
    access = tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
    return globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer(access),
        **({"base_url": transfer_url} if transfer_url else {}),
    )


def bare_client(base_url: str | None = None) -> globus_sdk.TransferClient:
    return globus_sdk.TransferClient(
        authorizer=globus_sdk.AccessTokenAuthorizer("reference-token"),
        **({"base_url": base_url} if base_url else {}),
    )


def calls_per_second(call: Callable[[], object], count: int) -> float:
    for _ in range(min(50, count)):
        call()  # warm connections and caches
    start = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - start)


def median_ms(call: Callable[[], object], rounds: int) -> float:
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


@contextmanager
def canned_responses(path: str, body: bytes) -> Iterator[None]:
    """The reference transport: `responses` answering one URL with a fixed body."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            responses.GET,
            TRANSFER_URL + path,
            callback=lambda _req: (200, {"Content-Type": "application/json"}, body),
        )
        yield


def row(name: str, ours: str, reference: str, ratio: str, target: str) -> None:
    print(f"{name:<46} {ours:>14} {reference:>14} {ratio:>8}   {target}")


# -- figures ----------------------------------------------------------------------------------


def bench_get_task(calls: int) -> None:
    sim = orbit_sim.Simulator(clock="virtual")
    with mock_globus(sim):
        tc = login(sim, None, None)
        tdata = globus_sdk.TransferData(sim.world.collections[0], sim.world.collections[1])
        tdata.add_item("/~/", "/~/copy/", recursive=True)
        task_id = tc.submit_transfer(tdata)["task_id"]
        document = json.dumps(tc.get_task(task_id).data).encode()
        ours = calls_per_second(lambda: tc.get_task(task_id), calls)
    with canned_responses(f"/v0.10/task/{task_id}", document):
        reference_client = bare_client()
        reference = calls_per_second(lambda: reference_client.get_task(task_id), calls)
    row(
        "get_task in-process (calls/s)",
        f"{ours:,.0f}",
        f"{reference:,.0f}",
        f"{ours / reference:.2f}",
        ">= 2,000",
    )
    record(
        Figure(
            AREA,
            "get_task in-process, one thread (ref: bare responses stub)",
            f"{ours:,.0f} calls/s ({ours / reference:.2f}x ref)",
            ">= 2,000 calls/s",
            ours >= 2000,
        )
    )

    server = orbit_sim.serve(sim)
    try:
        env = server.env
        tc = login(sim, env["GLOBUS_SDK_SERVICE_URL_AUTH"], env["GLOBUS_SDK_SERVICE_URL_TRANSFER"])
        ours = calls_per_second(lambda: tc.get_task(task_id), calls)
    finally:
        server.stop()
    with canned_http_server(document) as url:
        reference_client = bare_client(url)
        reference = calls_per_second(lambda: reference_client.get_task(task_id), calls)
    row(
        "get_task over loopback (calls/s)",
        f"{ours:,.0f}",
        f"{reference:,.0f}",
        f"{ours / reference:.2f}",
        ">= 500",
    )
    record(
        Figure(
            AREA,
            "get_task over loopback, one thread (ref: bare http.server)",
            f"{ours:,.0f} calls/s ({ours / reference:.2f}x ref)",
            ">= 500 calls/s",
            ours >= 500,
        )
    )
    sim.close()


def bench_ls(rounds: int) -> None:
    sim = orbit_sim.Simulator(clock="virtual")
    collection_id = sim.world.collections[0]
    fs = sim.transfer.data.collections[collection_id].fs
    now = sim.clock.now()
    for index in range(LS_ENTRIES):
        fs.write_file(f"/~/many/f{index:05}.dat", now + index % 97, size=index, parents=True)
    with mock_globus(sim):
        tc = login(sim, None, None)

        def listing() -> object:
            result = tc.operation_ls(collection_id, path="/~/many/")
            assert len(result["DATA"]) == LS_ENTRIES
            return result

        start = time.perf_counter()
        first = listing()
        cold = (time.perf_counter() - start) * 1000
        body = json.dumps(first.data).encode()
        ours = median_ms(listing, rounds)
    with canned_responses(f"/v0.10/operation/endpoint/{collection_id}/ls", body):
        reference_client = bare_client()

        def reference_listing() -> object:
            result = reference_client.operation_ls(collection_id, path="/~/many/")
            assert len(result["DATA"]) == LS_ENTRIES
            return result

        reference = median_ms(reference_listing, rounds)
    row(
        f"operation_ls of {LS_ENTRIES:,} entries (median ms)",
        f"{ours:.1f}",
        f"{reference:.1f}",
        f"{ours / reference:.2f}",
        "<= 50",
    )
    row("  first listing (entries encoded afresh, ms)", f"{cold:.1f}", "", "", "")
    record(
        Figure(
            AREA,
            f"operation_ls of {LS_ENTRIES:,} entries, median (ref: canned body)",
            f"{ours:.1f} ms ({ours / reference:.2f}x ref)",
            "<= 50 ms",
            ours <= 50,
        )
    )
    sim.close()


def build_tree(sim: orbit_sim.Simulator, files: int) -> str:
    """`files` files of 1 KiB-ish in directories of 1,000 under /~/tree on collection 1."""
    collection_id = sim.world.collections[0]
    fs = sim.transfer.data.collections[collection_id].fs
    now = sim.clock.now()
    for index in range(files):
        fs.write_file(
            f"/~/tree/d{index // 1000:04}/f{index % 1000:04}.dat",
            now,
            size=1024 + index % 512,
            parents=index % 1000 == 0,
        )
    return str(collection_id)


def run_transfer(sim: orbit_sim.Simulator, tc: globus_sdk.TransferClient, files: int) -> float:
    """Submit the tree's transfer and run it to SUCCEEDED; returns virtual seconds taken."""
    world = sim.world
    tdata = globus_sdk.TransferData(world.collections[0], world.collections[1])
    tdata.add_item("/~/tree/", "/~/copy/", recursive=True)
    task_id = tc.submit_transfer(tdata)["task_id"]
    started = sim.clock.now()
    while (task := tc.get_task(task_id))["status"] == "ACTIVE":
        sim.advance(60)
    assert task["status"] == "SUCCEEDED", task["status"]
    assert task["files_transferred"] == files, task["files_transferred"]
    return sim.clock.now() - started


def bench_big_transfer(files: int) -> None:
    sim = orbit_sim.Simulator(clock="virtual")
    build_tree(sim, files)
    with mock_globus(sim):
        tc = login(sim, None, None)
        start = time.perf_counter()
        virtual = run_transfer(sim, tc, files)
        wall = time.perf_counter() - start
    row(
        f"{files:,}-file recursive transfer (s)",
        f"{wall:.2f}",
        f"{virtual:,.0f} virt",
        "",
        "runs to SUCCEEDED",
    )
    record(
        Figure(
            AREA,
            f"{files:,}-file recursive transfer on the virtual clock",
            f"SUCCEEDED in {wall:.2f} s ({virtual:,.0f} virtual s)",
            "runs to SUCCEEDED",
            True,
        )
    )
    sim.close()

    growth = []
    for count in sorted({max(files // 10, 1), max(files // 3, 1), files}):
        per_file, source_per_file = transfer_memory(count)
        growth.append((count, per_file))
        row(
            f"  memory growth per file, {count:,} files (B)",
            f"{per_file:,.0f}",
            f"{source_per_file:,.0f} src",
            f"{per_file / source_per_file:.2f}",
            "flat as N grows",
        )
    (small, small_growth), (big, big_growth) = growth[0], growth[-1]
    record(
        Figure(
            AREA,
            f"transfer memory per file at {small:,} / {big:,} files (ref: source tree)",
            f"{small_growth:,.0f} / {big_growth:,.0f} B",
            "no faster than N",
            big_growth <= small_growth * 1.2,
        )
    )


def transfer_memory(files: int) -> tuple[float, float]:
    """Peak traced growth per file during the transfer, and the source tree's own per file."""
    gc.collect()
    sim = orbit_sim.Simulator(clock="virtual")
    with mock_globus(sim):
        tc = login(sim, None, None)
        tc.get_task  # noqa: B018 - warm the client before measuring
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        build_tree(sim, files)
        source = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        run_transfer(sim, tc, files)
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    sim.close()
    return peak / files, source / files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="get_task calls per figure")
    parser.add_argument("--files", type=int, default=100_000, help="files in the big transfer")
    parser.add_argument("--rounds", type=int, default=21, help="operation_ls repetitions")
    args = parser.parse_args(argv)
    print(f"{'figure':<46} {'simulator':>14} {'reference':>14} {'ratio':>8}   target")
    bench_get_task(args.calls)
    bench_ls(args.rounds)
    bench_big_transfer(args.files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
