"""Collections (mapped and guest) with their file systems, and the task store beside them.

`TransferData` is the data half of the Transfer model, `sim.transfer.data`. It owns
collections, tasks and submission ids, and `settle(now)` brings every active task up to
the clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from orbit_sim.core.http import ApiError
from orbit_sim.services.transfer.filesystem import FileSystem
from orbit_sim.services.transfer.tasks import Task, TaskRates

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

CollectionKind = Literal["mapped", "guest"]
ENTITY_TYPES = {"mapped": "GCSv5_mapped_collection", "guest": "GCSv5_guest_collection"}


@dataclass
class Collection:
    id: str
    display_name: str
    kind: CollectionKind
    # The GCS endpoint that hosts this collection.
    endpoint_id: str
    owner_id: str
    owner_string: str
    fs: FileSystem
    description: str | None = None
    organization: str | None = None
    department: str | None = None
    keywords: str | None = None
    public: bool = True
    # Mapped collections on real GCS ask for a data_access consent (not high-assurance).
    requires_data_access: bool = False
    quota_bytes: int | None = None
    # A guest collection's mapped collection.
    mapped_collection_id: str | None = None
    default_directory: str = "/~/"

    @property
    def entity_type(self) -> str:
        return ENTITY_TYPES[self.kind]

    def quota_left(self) -> int | None:
        if self.quota_bytes is None:
            return None
        return max(self.quota_bytes - self.fs.used_bytes, 0)


class EndpointNotFound(ApiError):
    def __init__(self, endpoint_id: str) -> None:
        super().__init__(404, "EndpointNotFound", f"No such endpoint or collection '{endpoint_id}'")


@dataclass
class Submission:
    owner_id: str
    task_id: str | None = None


@dataclass
class TransferData:
    sim: Simulator
    collections: dict[str, Collection] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    # Task ids in submission order (task_list's stable order) and the ones still ACTIVE.
    task_order: list[str] = field(default_factory=list)
    active: dict[str, Task] = field(default_factory=dict)
    submissions: dict[str, Submission] = field(default_factory=dict)
    rates: TaskRates = field(default_factory=TaskRates)

    # -- collections -------------------------------------------------------------------------

    def add_collection(
        self,
        display_name: str,
        *,
        endpoint_id: str,
        owner_id: str,
        owner_string: str,
        kind: CollectionKind = "mapped",
        home: str = "/home/orbit",
        collection_id: str | None = None,
        storage: FileSystem | None = None,
        **attributes: object,
    ) -> Collection:
        """A new collection with an empty file system, or a view on `storage` (guest)."""
        now = self.sim.clock.now()
        fs = storage.view(home, now) if storage is not None else FileSystem(home, now)
        collection = Collection(
            id=collection_id or str(uuid.uuid4()),
            display_name=display_name,
            kind=kind,
            endpoint_id=endpoint_id,
            owner_id=owner_id,
            owner_string=owner_string,
            fs=fs,
            **attributes,  # type: ignore[arg-type]
        )
        self.collections[collection.id] = collection
        return collection

    def collection(self, collection_id: str) -> Collection:
        found = self.collections.get(collection_id.lower())
        if found is None:
            raise EndpointNotFound(collection_id)
        return found

    # -- tasks -------------------------------------------------------------------------------

    def new_submission_id(self, owner_id: str) -> str:
        submission_id = str(uuid.uuid4())
        self.submissions[submission_id] = Submission(owner_id)
        return submission_id

    def add_task(self, task: Task) -> None:
        """Record a planned task (and its submission id) and bring it up to the clock."""
        submission = self.submissions.setdefault(task.submission_id, Submission(task.owner_id))
        submission.task_id = task.task_id
        task.sequence = len(self.task_order)
        self.tasks[task.task_id] = task
        self.task_order.append(task.task_id)
        self.active[task.task_id] = task
        task.settle(self.sim.clock.now())
        if task.status != "ACTIVE":
            self.active.pop(task.task_id, None)

    def settle(self, now: float) -> None:
        for task_id, task in list(self.active.items()):
            task.settle(now)
            if task.status != "ACTIVE":
                del self.active[task_id]
