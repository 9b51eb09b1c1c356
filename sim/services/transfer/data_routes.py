r"""The routes of Transfer's data half: endpoints, collections, file operations, tasks.

Their state is `sim.transfer.data` (collections.py); `TransferBackend.tick` brings tasks
up to the clock. (The control routes of control.py are registered in
orbit_sim/control/urls.py.)

    TransferClient --HTTP--> Simulator.handle --> endpoints.py     get_endpoint, endpoint_search
                                               \-> operations.py  operation_ls/mkdir/rename/stat
                                               \-> task_routes.py submission_id, transfer, delete,
                                                                  task/{id}, cancel, task_list
                                   consent.py (data_access) guards every data route
    sim.transfer.data (collections.py)
      collections: id -> Collection --fs--> FileSystem (filesystem.py; guests share storage)
      tasks: id -> TransferTask | DeleteTask (transfer_task.py, delete_task.py, on the base
             Task of tasks.py): planned once at submission,
             state at time t = binary search over completion offsets; settle(now) applies
             completed files to the destination FileSystem (on every request and clock move)
"""

from __future__ import annotations

from orbit_sim.core.http import Router
from orbit_sim.services.transfer import endpoints, operations, task_routes


def register(router: Router) -> None:
    endpoints.register(router)
    operations.register(router)
    task_routes.register(router)
