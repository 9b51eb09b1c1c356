"""The default world's collections: the Globus Tutorial Collections, under their real ids.

Like Globus' "Tutorial Collection 1" and "2" (and with their ids, so scripts written for
real Globus run unchanged): each holds /home/share/godata/ with file1.txt, file2.txt and
file3.txt, and a writable `/~/` points there. Each is a guest collection
on a mapped collection of its GCS endpoint and shares that collection's storage; the
mapped collections ask for a data_access consent, the guest (tutorial) ones do not.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from orbit_sim.services.transfer.collections import Collection
from orbit_sim.services.transfer.endpoints import EndpointView, gcs_endpoints

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

GODATA = "/home/share/godata"
GODATA_FILES = {"file1.txt": b"one\n", "file2.txt": b"two\n", "file3.txt": b"six\n"}
OWNER_STRING = "tutorial@orbit-sim.example.org"
_NAMESPACE = uuid.UUID("5d3c1f2e-4b7a-4c55-9a0e-0b1e2d3c4f50")
# The public Globus Tutorial Collection 1 and 2 (GCSv5 guest collections).
TUTORIAL_COLLECTION_IDS = (
    "6c54cade-bde5-45c1-bdea-f4bd71dba2cc",
    "31ce9ba0-176d-45a5-add3-f37d233ba47d",
)


def stable_id(name: str) -> str:
    """The same id in every simulator run, so docs and scripts can name it."""
    return str(uuid.uuid5(_NAMESPACE, name))


def _host(sim: Simulator, index: int) -> EndpointView | None:
    endpoints = gcs_endpoints(sim)
    return endpoints[index % len(endpoints)] if endpoints else None


def seed_tutorial_collections(sim: Simulator) -> tuple[str, str]:
    """Add the two tutorial collections (and their mapped collections); returns their ids."""
    data = sim.transfer.data
    now = sim.clock.now()
    ids = []
    for number in (1, 2):
        host = _host(sim, number - 1)
        endpoint_id = host.id if host else stable_id(f"endpoint-{number}")
        owner_id = host.owner_id if host else stable_id("tutorial-owner")
        owner_string = host.owner_string if host else OWNER_STRING
        mapped = data.add_collection(
            f"orbit-sim Mapped Collection {number}",
            collection_id=stable_id(f"mapped-collection-{number}"),
            endpoint_id=endpoint_id,
            owner_id=owner_id,
            owner_string=owner_string,
            kind="mapped",
            home="/home/share",
            description="POSIX storage of a simulated GCS endpoint (needs data_access consent)",
            organization="orbit-sim",
            requires_data_access=True,
        )
        tutorial = data.add_collection(
            f"Globus Tutorial Collection {number}",
            collection_id=TUTORIAL_COLLECTION_IDS[number - 1],
            endpoint_id=endpoint_id,
            owner_id=owner_id,
            owner_string=owner_string,
            kind="guest",
            home=GODATA,
            description="Tutorial files for trying out transfers in the simulator",
            organization="orbit-sim",
            keywords="tutorial,godata",
            mapped_collection_id=mapped.id,
            storage=mapped.fs,
        )
        _seed_godata(tutorial, now)
        ids.append(tutorial.id)
    return ids[0], ids[1]


def _seed_godata(collection: Collection, now: float) -> None:
    for name, content in GODATA_FILES.items():
        collection.fs.write_file(f"{GODATA}/{name}", now, content=content)
