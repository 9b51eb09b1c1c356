"""The loopback simulator wired to globus-sdk for the plugin's end-to-end tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orbit_sim
from orbit_sim.control.client import SimControl
from orbit_sim.services.auth.scopes import TRANSFER_ALL, data_access

# Only these reach globus-sdk; the rest of the env file is for other tools.
SDK_VARIABLES = ("GLOBUS_SDK_SERVICE_URL_AUTH", "GLOBUS_SDK_SERVICE_URL_TRANSFER")
GODATA = "/home/share/godata"


@dataclass
class SimEnv:
    sim: Any
    server: Any
    control: SimControl

    @property
    def world(self) -> Any:
        return self.sim.world

    @property
    def tutorial_1(self) -> str:
        return self.world.collections[0]

    @property
    def tutorial_2(self) -> str:
        return self.world.collections[1]

    def mapped_collection(self, tutorial_id: str) -> str:
        return self.sim.transfer.data.collections[tutorial_id].mapped_collection_id

    def user_tokens(self, *extra_scopes: str, client_id: str | None = None) -> dict[str, Any]:
        """A Transfer token response for the default user, as after a login."""
        scope = TRANSFER_ALL
        if extra_scopes:
            scope += "[" + " ".join(f"*{s}" for s in extra_scopes) + "]"
        return self.control.issue_tokens(scope, client_id=client_id)

    def data_access_scope(self, collection_id: str) -> str:
        return data_access(collection_id)

    def copy(
        self, globus: Any, source: str, destination: str, recursive: bool = False, **options: Any
    ) -> dict[str, Any]:
        """Submit a one-item transfer from tutorial collection 1 to tutorial collection 2."""
        item = {"source": source, "destination": destination, "recursive": recursive}
        return globus.submit_transfer(self.tutorial_1, self.tutorial_2, [item], **options)


@dataclass
class Recorder:
    """Collects notifications delivered to a radical.orbit notification callback."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, endpoint: str, plugin: str, topic: str, data: dict[str, Any]) -> None:
        with self.changed:
            self.events.append((topic, data))
            self.changed.notify_all()

    def for_task(self, task_id: str) -> list[dict[str, Any]]:
        with self.changed:
            return [data for topic, data in self.events if data.get("task_id") == task_id]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; notifications so far: {self.events}")
                self.changed.wait(left)

    def wait_final(self, task_id: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        def done() -> bool:
            return any(e["status"] in ("SUCCEEDED", "FAILED") for e in self.for_task(task_id))

        self.wait_until(done, timeout)
        return self.for_task(task_id)


def start_sim(monkeypatch: Any) -> Iterator[SimEnv]:
    sim = orbit_sim.Simulator(clock="virtual")
    server = orbit_sim.serve(sim)
    control = SimControl(server.env["ORBIT_SIM_URL"])
    try:
        for name, value in server.env.items():
            if name.startswith("GLOBUS_SDK_"):
                monkeypatch.setenv(name, value)
        yield SimEnv(sim, server, control)
    finally:
        control.close()
        server.stop()
        sim.close()
