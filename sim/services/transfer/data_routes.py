r"""Hooks that plug the transfer-data model into the simulator (see urls.py).

`install` attaches `sim.transfer_data`, `tick` brings tasks up to the clock, and
`seed_world` adds the tutorial collections to the default world. (The control routes of
control.py are registered in orbit_sim/control/urls.py.)

    TransferClient --HTTP--> Simulator.handle --> endpoints.py     get_endpoint, endpoint_search
                                               \-> operations.py  operation_ls/mkdir/rename/stat
                                               \-> task_routes.py submission_id, transfer, delete,
                                                                  task/{id}, cancel, task_list
                                   consent.py (data_access) guards every data route
    sim.transfer_data (collections.py)
      collections: id -> Collection --fs--> FileSystem (filesystem.py; guests share storage)
      tasks: id -> TransferTask | DeleteTask (transfer_task.py, delete_task.py, on the base
             Task of tasks.py): planned once at submission,
             state at time t = binary search over completion offsets; settle(now) applies
             completed files to the destination FileSystem (on every request and clock move)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import Router
from orbit_sim.services.transfer import endpoints, operations, task_routes
from orbit_sim.services.transfer.collections import TransferData
from orbit_sim.services.transfer.tutorial import seed_tutorial_collections

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


def register(router: Router) -> None:
    endpoints.register(router)
    operations.register(router)
    task_routes.register(router)


def install(sim: Simulator) -> None:
    sim.transfer_data = TransferData(sim)  # type: ignore[attr-defined]


def tick(sim: Simulator, now: float) -> None:
    data: TransferData | None = getattr(sim, "transfer_data", None)
    if data is not None:
        data.settle(now)


def seed_world(sim: Simulator, world: Any) -> None:
    world.collections.extend(seed_tutorial_collections(sim))
