#!/usr/bin/env python3
"""Stage the Globus tutorial files through RADICAL Orbit with orbit-globus' globus plugin.

Needs a running radical.orbit broker with an endpoint serving the plugin
(``radical-orbit-endpoint.py --name ep1 -p globus`` with ``orbit-globus[orbit]`` installed),
``RADICAL_ORBIT_BROKER_URL`` (plus the broker's cert and token in ``~/.radical/orbit``),
and a Globus Transfer token: ``GLOBUS_ACCESS_TOKEN``, or ``GLOBUS_REFRESH_TOKEN`` with
``GLOBUS_CLIENT_ID``. Against the simulator, ``orbit-sim serve`` prints both collections'
ids (the real Tutorial Collection ids) and issues tokens; point the endpoint's globus-sdk at
it with the ``GLOBUS_SDK_*`` variables from its env file.

Run: python examples/example_globus.py [--endpoint ep1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from radical.orbit import EndpointRuntime

import orbit_globus.transfer  # noqa: F401 - get_plugin then returns orbit-globus' client

TUTORIAL_1 = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc"
TUTORIAL_2 = "31ce9ba0-176d-45a5-add3-f37d233ba47d"
GODATA = "/home/share/godata/"


def credentials() -> dict[str, str]:
    if os.environ.get("GLOBUS_ACCESS_TOKEN"):
        return {"access_token": os.environ["GLOBUS_ACCESS_TOKEN"]}
    if os.environ.get("GLOBUS_REFRESH_TOKEN") and os.environ.get("GLOBUS_CLIENT_ID"):
        return {
            "refresh_token": os.environ["GLOBUS_REFRESH_TOKEN"],
            "client_id": os.environ["GLOBUS_CLIENT_ID"],
        }
    sys.exit("set GLOBUS_ACCESS_TOKEN, or GLOBUS_REFRESH_TOKEN and GLOBUS_CLIENT_ID")


def on_status(endpoint: str, plugin: str, topic: str, data: dict) -> None:
    print(f"  {topic}: [{data['status']}] {data['label']} ({data['files_transferred']} files)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="endpoint name (default: the first serving globus)")
    args = parser.parse_args(argv)
    token = credentials()

    rt = EndpointRuntime()
    rt.start(wait=True)
    try:
        endpoint = args.endpoint or next(
            (
                name
                for name, info in rt.topology().items()
                if info.get("role") == "endpoint" and "globus" in (info.get("plugins") or {})
            ),
            None,
        )
        if endpoint is None:
            print("no endpoint serves the globus plugin", file=sys.stderr)
            return 1
        with rt.get_plugin(endpoint, "globus", **token) as globus:
            globus.register_notification_callback(on_status, topic="transfer_status")
            destination = f"/~/orbit-example-{int(time.time())}/"
            task = globus.submit_transfer(
                TUTORIAL_1,
                TUTORIAL_2,
                [{"source": GODATA, "destination": destination, "recursive": True}],
                label="orbit example transfer",
                sync_level="checksum",
            )
            print(f"submitted {task['task_id']}")
            while not globus.task_wait(task["task_id"], timeout=60, polling_interval=5)[
                "completed"
            ]:
                print("  still transferring")
            done = globus.get_task(task["task_id"])
            print(f"task {done['status']}: {done['files_transferred']} files")
            names = sorted(entry["name"] for entry in globus.ls(TUTORIAL_2, destination)["entries"])
            print(f"destination {destination}: {', '.join(names)}")
            time.sleep(0.5)  # let the final transfer_status notification print
            return 0 if done["status"] == "SUCCEEDED" else 1
    finally:
        rt.stop()


if __name__ == "__main__":
    raise SystemExit(main())
