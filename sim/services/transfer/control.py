"""Control operations on the transfer data (no bearer token; loopback developer controls).

For a simulator in another process (`orbit-sim serve`), what in-process tests do through
`sim.transfer.data`: put files into a collection, set a collection's quota, and read or
set how fast tasks move. Exposed by the control API's table (orbit_sim/control/api.py):

    POST /transfer/collections/{collection_id}/files  {"path", "content" | "size", "mtime"?}
    PUT  /transfer/collections/{collection_id}/quota  {"quota_bytes": int | null}
    GET  /transfer/rates
    PUT  /transfer/rates  {"bytes_per_second"?, "seconds_per_file"?, "seconds_per_delete"?}

The operations themselves (`put_file`, `set_quota`, `get_rates`, `set_rates`) are also the
Simulator's methods of the same names, and SimControl's, so a test drives either alike.
Rates apply to tasks submitted afterwards (a task's timeline is fixed when it is planned).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import BadRequest
from orbit_sim.services.transfer.filesystem import VfsError

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


def _number(key: str, value: object, *, integer: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f"'{key}' must be a number >= 0")
    if integer and not isinstance(value, int):
        raise BadRequest(f"'{key}' must be an integer")
    return value


# -- the operations (Simulator methods of the same names call these) --------------------------


def put_file(
    sim: Simulator,
    collection_id: str,
    path: object,
    *,
    content: object = None,
    size: object = None,
    mtime: object = None,
) -> dict[str, Any]:
    """Create or replace a file (text `content`, or a synthetic one of `size` bytes),
    making missing parent directories; `{path, size, checksum}`."""
    collection = sim.transfer.data.collection(collection_id)
    file_size = _number("size", size, integer=True)
    file_mtime = _number("mtime", mtime)
    if not isinstance(path, str) or not path:
        raise BadRequest("'path' is required")
    if (content is None) == (file_size is None):
        raise BadRequest("give exactly one of 'content' (text) and 'size' (bytes)")
    if content is not None and not isinstance(content, str):
        raise BadRequest("'content' must be a string")
    try:
        node = collection.fs.write_file(
            path,
            sim.clock.now(),
            content=content.encode() if content is not None else None,
            size=int(file_size) if file_size is not None else None,
            mtime=file_mtime,
            parents=True,
        )
    except VfsError as err:
        raise BadRequest(err.message) from None
    return {"path": collection.fs.absolute(path), "size": node.size, "checksum": node.checksum}


def set_quota(sim: Simulator, collection_id: str, quota_bytes: object) -> dict[str, Any]:
    """Limit what the collection may hold (None: no limit); `{collection_id, quota_bytes}`."""
    collection = sim.transfer.data.collection(collection_id)
    quota = _number("quota_bytes", quota_bytes, integer=True)
    collection.quota_bytes = int(quota) if quota is not None else None
    return {"collection_id": collection.id, "quota_bytes": collection.quota_bytes}


def get_rates(sim: Simulator) -> dict[str, Any]:
    return asdict(sim.transfer.data.rates)


def set_rates(
    sim: Simulator,
    *,
    bytes_per_second: object = None,
    seconds_per_file: object = None,
    seconds_per_delete: object = None,
) -> dict[str, Any]:
    """Change the given rates (the others stay); all rates after the change."""
    given = {
        "bytes_per_second": bytes_per_second,
        "seconds_per_file": seconds_per_file,
        "seconds_per_delete": seconds_per_delete,
    }
    values = {key: _number(key, value) for key, value in given.items()}
    if values["bytes_per_second"] == 0:
        raise BadRequest("'bytes_per_second' must be > 0")
    rates = sim.transfer.data.rates
    for key, value in values.items():
        if value is not None:
            setattr(rates, key, float(value))
    return asdict(rates)
