"""Simulator API speed: calls/s through unmodified globus-sdk, beside transport references.

    .venv/bin/python benchmarks/bench_sim_api.py [--seconds 2]

Measured in one run, one client thread each:
- `get_task` (C's task model; `get_tunnel` as well) through TransferClient, in-process
  (`orbit_sim.mock_globus`) and over the loopback server (`orbit_sim.serve`);
- references: the same SDK call answered by a bare `responses` callback with a canned
  body (the in-process floor), and a bare `requests.Session` GET to a stdlib keep-alive
  no-op HTTP server (the loopback floor).
Issue 3's targets: get_task >= 2,000 calls/s in-process and >= 500 calls/s over loopback.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import globus_sdk
import orbit_sim
import requests
import responses
from globus_sdk.services.transfer import CreateTunnelData, TransferData

TARGETS = {"in-process": 2000.0, "loopback": 500.0}
CANNED = json.dumps({"DATA_TYPE": "task", "task_id": "x", "status": "SUCCEEDED"}).encode()


def rate(call: Callable[[], Any], seconds: float, rounds: int = 5) -> float:
    """Median calls/s of `call` over `rounds` rounds sharing `seconds` (after a warm-up).

    The median of several short rounds resists the noise of a shared machine.
    """
    for _ in range(20):
        call()
    results = []
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / rounds
        while True:
            for _ in range(25):
                call()
            count += 25
            now = time.perf_counter()
            if now >= deadline:
                results.append(count / (now - start))
                break
    return statistics.median(results)


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


@contextmanager
def noop_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            # One write per reply: separate header/body writes would meet Nagle's
            # algorithm and delayed ACKs (~40 ms per call), not a fair floor.
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(CANNED)}\r\n\r\n"
            )
            self.wfile.write(head.encode() + CANNED)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def measure(seconds: float) -> list[tuple[str, str, float]]:
    rows: list[tuple[str, str, float]] = []

    # In-process: the simulator behind responses callbacks.
    sim = orbit_sim.Simulator("virtual")
    with orbit_sim.mock_globus(sim):
        tc = transfer_client(sim)
        task_id, tunnel_id = make_task_and_tunnel(sim, tc)
        rows.append(("in-process", "get_task (sim)", rate(lambda: tc.get_task(task_id), seconds)))
        rows.append(
            ("in-process", "get_tunnel (sim)", rate(lambda: tc.get_tunnel(tunnel_id), seconds))
        )
    sim.close()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(
            "GET",
            "https://transfer.api.globus.org/v0.10/task/x",
            callback=lambda _r: (200, {"Content-Type": "application/json"}, CANNED),
        )
        bare = globus_sdk.TransferClient(authorizer=globus_sdk.AccessTokenAuthorizer("t"))
        rows.append(
            (
                "in-process",
                "reference: SDK + bare responses",
                rate(lambda: bare.get_task("x"), seconds),
            )
        )

    # Loopback: the threaded keep-alive server.
    sim = orbit_sim.Simulator("virtual")
    handle = orbit_sim.serve(sim)
    try:
        import os

        saved = {k: os.environ.get(k) for k in handle.env}
        os.environ.update(handle.env)
        try:
            tc = transfer_client(sim)
            task_id, tunnel_id = make_task_and_tunnel(sim, tc)
            rows.append(("loopback", "get_task (sim)", rate(lambda: tc.get_task(task_id), seconds)))
            rows.append(
                ("loopback", "get_tunnel (sim)", rate(lambda: tc.get_tunnel(tunnel_id), seconds))
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        handle.stop()
        sim.close()
    with noop_server() as url, requests.Session() as session:
        rows.append(
            (
                "loopback",
                "reference: bare requests + stdlib no-op server",
                rate(lambda: session.get(url + "v0.10/task/x"), seconds),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
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


if __name__ == "__main__":
    main()
