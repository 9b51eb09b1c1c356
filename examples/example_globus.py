"""A Globus transfer end to end through the orbit ``globus`` plugin.

By default everything runs on this machine: the simulator (real clock) stands in for
Globus with its two tutorial collections, an endpoint host serves the plugin, and the
application side copies the tutorial files from collection 1 to collection 2::

    .venv/bin/python examples/example_globus.py

Against real Globus (the public Globus Tutorial Collections 1 and 2 by default), give a
Transfer access token -- preferably through the environment, so it stays out of ``ps``::

    GLOBUS_TRANSFER_TOKEN=... .venv/bin/python examples/example_globus.py --real

The tutorial collections are mapped collections: the token needs their ``data_access``
consent; without it the plugin answers 401 ConsentRequired and this script prints the
scopes to log in with. ``--endpoint URL`` uses a running ``orbit-globus-endpoint``
instead of starting one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from orbit_globus.endpoint.app import build_app
from orbit_globus.endpoint.client import EndpointClient
from orbit_globus.endpoint.server import ThreadedHost
from orbit_globus.transfer import ConsentRequiredError, PluginError
from orbit_globus.transfer.plugin import Plugin

# The public Globus Tutorial Collections (GCSv5 mapped collections run by Globus).
TUTORIAL_1 = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc"
TUTORIAL_2 = "31ce9ba0-176d-45a5-add3-f37d233ba47d"
REAL_SOURCE_PATH = "/share/godata/"
SIM_SOURCE_PATH = "/home/share/godata/"
TOKEN_VARIABLE = "GLOBUS_TRANSFER_TOKEN"
DONE = ("SUCCEEDED", "FAILED")


@contextlib.contextmanager
def simulated_globus() -> Iterator[dict[str, Any]]:
    """The simulator on loopback, globus-sdk pointed at it, and a logged-in user's token."""
    import orbit_sim
    from orbit_sim.control.client import SimControl
    from orbit_sim.services.auth.scopes import TRANSFER_ALL

    sim = orbit_sim.Simulator(clock="real")
    server = orbit_sim.serve(sim)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in server.env.items() if k.startswith("GLOBUS_SDK_")})
    try:
        with SimControl(server.env["ORBIT_SIM_URL"]) as control:
            tokens = control.issue_tokens(TRANSFER_ALL)  # as after an interactive login
        source, destination = sim.world.collections[:2]
        yield {
            "credential": {"access_token": tokens["access_token"]},
            "source": source,
            "destination": destination,
            "source_path": SIM_SOURCE_PATH,
        }
    finally:
        server.stop()
        sim.close()
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def real_globus(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if args.refresh_token:
        if not args.client_id:
            raise SystemExit("example: --refresh-token needs --client-id")
        credential = {"refresh_token": args.refresh_token, "client_id": args.client_id}
    elif token:
        credential = {"access_token": token}
    else:
        raise SystemExit(f"example: --real needs a Transfer token in ${TOKEN_VARIABLE} or --token")
    yield {
        "credential": credential,
        "source": args.source or TUTORIAL_1,
        "destination": args.destination or TUTORIAL_2,
        "source_path": args.source_path or REAL_SOURCE_PATH,
    }


@contextlib.contextmanager
def endpoint_host(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with ThreadedHost(build_app([Plugin(poll_interval=1.0)])) as host:
        yield host.url


def show(topic: str, data: dict[str, Any]) -> None:
    if topic == "transfer_status":
        print(
            f"  [{data['status']:<9}] {data['label']}: {data['files_transferred']} files, "
            f"{data['bytes_transferred']} bytes ({data['nice_status']})",
            flush=True,
        )
    elif topic == "session_error":
        print(f"  [{topic}] {data['code']}: {data['message']}", flush=True)


def run_transfer(globus: Any, setup: dict[str, Any], destination_path: str) -> int:
    print("collections named like 'Tutorial':")
    for endpoint in globus.endpoint_search("Tutorial", limit=5):
        print(f"  {endpoint['id']}  {endpoint['display_name']}")
    print(f"source {setup['source']}:{setup['source_path']}")
    for entry in globus.ls(setup["source"], setup["source_path"]):
        print(f"  {entry['type']:<4} {entry['size']:>8}  {entry['name']}")

    submitted = globus.submit_transfer(
        source=setup["source"],
        destination="local",  # the session's local collection: the destination below
        items=[
            {"source": setup["source_path"], "destination": destination_path, "recursive": True}
        ],
        label="orbit example transfer",
        sync_level="checksum",
        verify_checksum=True,
    )
    print(f"submitted task {submitted['task_id']} ({submitted['status']}); notifications:")
    for note in globus.notifications(timeout=300):
        show(note.topic, note.data)
        if note.data.get("task_id") == submitted["task_id"] and note.data["status"] in DONE:
            break
    else:
        print("no final notification within 300 s", file=sys.stderr)
    # task_wait is the polling alternative; here it returns at once
    globus.task_wait(submitted["task_id"], timeout=60, polling_interval=2)
    task = globus.get_task(submitted["task_id"])
    print(f"task {task['status']}: {task['files_transferred']} files")
    if task["status"] != "SUCCEEDED":
        print(f"  fatal error: {task.get('fatal_error')}", file=sys.stderr)
        return 1
    print(f"destination {setup['destination']}:{destination_path}")
    for entry in globus.ls("local", destination_path):
        print(f"  {entry['type']:<4} {entry['size']:>8}  {entry['name']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A transfer through the orbit globus plugin.")
    parser.add_argument("--real", action="store_true", help="use real Globus, not the simulator")
    parser.add_argument("--token", help=f"Transfer access token (default: ${TOKEN_VARIABLE})")
    parser.add_argument("--refresh-token", help="a refresh token instead (with --client-id)")
    parser.add_argument("--client-id", help="the native app client the refresh token is for")
    parser.add_argument("--endpoint", help="URL of a running orbit-globus-endpoint")
    parser.add_argument("--source", help="source collection (real: Tutorial Collection 1)")
    parser.add_argument("--destination", help="destination collection (real: Tutorial 2)")
    parser.add_argument("--source-path", help="directory to copy")
    parser.add_argument("--destination-path", default="/~/orbit-example/")
    args = parser.parse_args(argv)

    use_real = args.real or bool(args.token or args.refresh_token)
    backend = real_globus(args) if use_real else simulated_globus()
    with backend as setup, endpoint_host(args.endpoint) as url, EndpointClient(url) as endpoint:
        print(f"endpoint host {url}; Globus: {'real' if use_real else 'simulated'}")
        globus = endpoint.get_plugin("globus")
        try:
            globus.register_session(**setup["credential"], local_collection=setup["destination"])
            return run_transfer(globus, setup, args.destination_path)
        except ConsentRequiredError as err:
            print(f"consent required; log in again requesting: {err.required_scopes}")
            return 2
        except PluginError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        finally:
            globus.close()


if __name__ == "__main__":
    sys.exit(main())
