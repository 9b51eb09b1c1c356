"""Simulator API speed: calls/s through unmodified globus-sdk, beside transport references.

    .venv/bin/python benchmarks/bench_sim_api.py [--seconds 2]

Measured in one run, one client thread each:
- `get_task` (C's task model; `get_tunnel` as well) through TransferClient, in-process
  (`orbit_sim.mock_globus`) and over the loopback server (`orbit_sim.serve`);
- references: the same SDK call answered by a bare `responses` callback with a canned
  body (the in-process floor), and a bare `requests.Session` GET to a stdlib keep-alive
  no-op HTTP server (the loopback floor).
- `orbit-sim serve` readiness: seconds from spawn until its env file exists (median of 3),
  beside the start-up of a bare `python -c pass` in the same run.
Issue 3's targets: get_task >= 2,000 calls/s in-process and >= 500 calls/s over loopback;
serve ready within 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import globus_sdk
import requests
import responses
from globus_sdk.services.transfer import CreateTunnelData, TransferData
from references import canned_http_server  # benchmarks/references.py
from report import Figure, record  # benchmarks/report.py, beside this script

import orbit_sim

TARGETS = {"in-process": 2000.0, "loopback": 500.0}
CANNED = json.dumps({"DATA_TYPE": "task", "task_id": "x", "status": "SUCCEEDED"}).encode()


def interleaved_rates(
    calls: dict[str, tuple[Callable[[], Any], Callable[[], Any]]], seconds: float, rounds: int = 7
) -> dict[str, float]:
    """Median calls/s per name; rounds alternate between the names so that the noise of a
    shared machine hits the measurement and its reference alike.

    `calls` maps a name to (context factory, call): the context (e.g. a mock) is entered
    around each round.
    """
    results: dict[str, list[float]] = {name: [] for name in calls}
    for context, call in calls.values():
        with context():
            for _ in range(20):  # warm-up
                call()
    for _ in range(rounds):
        for name, (context, call) in calls.items():
            with context():
                count, start = 0, time.perf_counter()
                deadline = start + seconds / rounds / len(calls)
                while True:
                    for _ in range(10):
                        call()
                    count += 10
                    now = time.perf_counter()
                    if now >= deadline:
                        results[name].append(count / (now - start))
                        break
    return {name: statistics.median(values) for name, values in results.items()}


def transfer_client(sim: orbit_sim.Simulator) -> globus_sdk.TransferClient:
    world = sim.world
    auth = globus_sdk.ConfidentialAppAuthClient(world.client_id, world.client_secret)
    tokens = auth.oauth2_client_credentials_tokens(globus_sdk.TransferClient.scopes.all)
    access = tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
    return globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer(access))


def make_task_and_tunnel(
    sim: orbit_sim.Simulator, tc: globus_sdk.TransferClient
) -> tuple[str, str]:
    world = sim.world
    tunnel = tc.create_tunnel(CreateTunnelData(world.initiator_ap_id, world.listener_ap_id))
    source, destination = world.collections[:2]
    data = TransferData(source_endpoint=source, destination_endpoint=destination)
    listing = tc.operation_ls(source, path="/~/")
    first_file = next(e["name"] for e in listing if e["type"] == "file")
    data.add_item(f"/~/{first_file}", f"/~/bench-{first_file}")
    task_id = tc.submit_transfer(data)["task_id"]
    return str(task_id), str(tunnel["data"]["id"])


def measure(seconds: float) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []

    # In-process: the simulator behind responses callbacks, vs a bare canned callback.
    sim = orbit_sim.Simulator("virtual")
    with orbit_sim.mock_globus(sim):
        tc = transfer_client(sim)
        task_id, tunnel_id = make_task_and_tunnel(sim, tc)

    def reference() -> responses.RequestsMock:
        # A fresh mock per round: leaving a RequestsMock's context drops its registrations.
        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        mock.add_callback(
            "GET",
            "https://transfer.api.globus.org/v0.10/task/x",
            callback=lambda _r: (200, {"Content-Type": "application/json"}, CANNED),
        )
        return mock

    bare = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer("t"))
    found = interleaved_rates(
        {
            "get_task (sim)": (lambda: orbit_sim.mock_globus(sim), lambda: tc.get_task(task_id)),
            "get_tunnel (sim)": (
                lambda: orbit_sim.mock_globus(sim),
                lambda: tc.get_tunnel(tunnel_id),
            ),
            "reference: SDK + bare responses": (reference, lambda: bare.get_task("x")),
        },
        seconds,
    )
    rows += [("in-process", name, value) for name, value in found.items()]
    sim.close()

    # Loopback: the threaded keep-alive server, vs bare requests to a no-op server.
    sim = orbit_sim.Simulator("virtual")
    handle = orbit_sim.serve(sim)
    saved = {k: os.environ.get(k) for k in handle.env}
    try:
        os.environ.update(handle.env)
        tc = transfer_client(sim)
        task_id, tunnel_id = make_task_and_tunnel(sim, tc)
        with canned_http_server(CANNED) as url, requests.Session() as session:
            found = interleaved_rates(
                {
                    "get_task (sim)": (nullcontext, lambda: tc.get_task(task_id)),
                    "get_tunnel (sim)": (nullcontext, lambda: tc.get_tunnel(tunnel_id)),
                    "reference: bare requests + stdlib no-op server": (
                        nullcontext,
                        lambda: session.get(url + "/v0.10/task/x"),
                    ),
                },
                seconds,
            )
        rows += [("loopback", name, value) for name, value in found.items()]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        handle.stop()
        sim.close()
    return rows


def startup_seconds(runs: int = 3) -> tuple[float, float]:
    """(median seconds until `orbit-sim serve` wrote its env file, same for `python -c pass`)."""
    serve_times, bare_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(runs):
            env_file = Path(tmp) / f"env{index}"
            start = time.perf_counter()
            args = [sys.executable, "-m", "orbit_sim.cli", "serve", "--env-file", str(env_file)]
            process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
            try:
                while not env_file.exists():
                    if process.poll() is not None or time.perf_counter() - start > 30:
                        raise RuntimeError("orbit-sim serve did not start")
                    time.sleep(0.005)
                serve_times.append(time.perf_counter() - start)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            bare_times.append(time.perf_counter() - start)
    return statistics.median(serve_times), statistics.median(bare_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="time per mode")
    args = parser.parse_args()
    rows = measure(args.seconds)
    references = {mode: value for mode, name, value in rows if name.startswith("reference")}
    print(f"{'mode':<11} {'measurement':<48} {'calls/s':>9} {'vs ref':>7} {'target':>8}")
    for mode, name, value in rows:
        ratio = value / references[mode]
        target = ""
        if name.startswith("get_task"):
            target = ("ok " if value >= TARGETS[mode] else "LOW ") + f"{TARGETS[mode]:.0f}"
        print(f"{mode:<11} {name:<48} {value:>9.0f} {ratio:>6.2f}x {target:>8}")
        if name.startswith("get_task"):
            record(
                Figure(
                    "sim-api",
                    f"get_task {mode} ({ratio:.2f}x the bare reference)",
                    f"{value:.0f} calls/s",
                    f">= {TARGETS[mode]:.0f}",
                    value >= TARGETS[mode],
                )
            )
    serve_s, bare_s = startup_seconds()
    verdict = "ok" if serve_s <= 1.5 else "SLOW"
    print(f"\norbit-sim serve ready in {serve_s:.2f} s (median of 3; target 1.5 s: {verdict}); ")
    record(
        Figure(
            "sim-api",
            f"orbit-sim serve ready (python -c pass: {bare_s:.2f} s)",
            f"{serve_s:.2f} s",
            "<= 1.5 s",
            serve_s <= 1.5,
        )
    )
    print(f"reference: python -c pass takes {bare_s:.2f} s ({serve_s / bare_s:.1f}x)")


if __name__ == "__main__":
    main()
