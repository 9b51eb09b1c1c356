"""Control routes for the transfer data (no bearer token; loopback developer controls).

For a simulator in another process (`orbit-sim serve`), what in-process tests do through
`sim.transfer_data`: put files into a collection, set a collection's quota, and read or
set how fast tasks move. Register with `register_control(router)` on the control router:

    POST /transfer/collections/{collection_id}/files  {"path", "content" | "size", "mtime"?}
    PUT  /transfer/collections/{collection_id}/quota  {"quota_bytes": int | null}
    GET  /transfer/rates
    PUT  /transfer/rates  {"bytes_per_second"?, "seconds_per_file"?, "seconds_per_delete"?}

Rates apply to tasks submitted afterwards (a task's timeline is fixed when it is planned).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import BadRequest, Request, Router
from orbit_sim.services.transfer.collections import transfer_data
from orbit_sim.services.transfer.filesystem import VfsError

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

_RATE_FIELDS = ("bytes_per_second", "seconds_per_file", "seconds_per_delete")


def _number(doc: dict[str, Any], key: str, *, integer: bool = False) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f"'{key}' must be a number >= 0")
    if integer and not isinstance(value, int):
        raise BadRequest(f"'{key}' must be an integer")
    return value


def put_file(sim: Simulator, request: Request) -> dict[str, Any]:
    collection = transfer_data(sim).collection(request.params["collection_id"])
    doc = request.json_object()
    path = doc.get("path")
    content = doc.get("content")
    size = _number(doc, "size", integer=True)
    if not isinstance(path, str) or not path:
        raise BadRequest("'path' is required")
    if (content is None) == (size is None):
        raise BadRequest("give exactly one of 'content' (text) and 'size' (bytes)")
    if content is not None and not isinstance(content, str):
        raise BadRequest("'content' must be a string")
    now = sim.clock.now()
    mtime = _number(doc, "mtime")
    try:
        node = collection.fs.write_file(
            path,
            now,
            content=content.encode() if content is not None else None,
            size=int(size) if size is not None else None,
            mtime=mtime,
            parents=True,
        )
    except VfsError as err:
        raise BadRequest(err.message) from None
    return {"path": collection.fs.absolute(path), "size": node.size, "checksum": node.checksum}


def set_quota(sim: Simulator, request: Request) -> dict[str, Any]:
    collection = transfer_data(sim).collection(request.params["collection_id"])
    quota = _number(request.json_object(), "quota_bytes", integer=True)
    collection.quota_bytes = int(quota) if quota is not None else None
    return {"collection_id": collection.id, "quota_bytes": collection.quota_bytes}


def get_rates(sim: Simulator, request: Request) -> dict[str, Any]:
    return asdict(transfer_data(sim).rates)


def set_rates(sim: Simulator, request: Request) -> dict[str, Any]:
    rates = transfer_data(sim).rates
    doc = request.json_object()
    unknown = set(doc) - set(_RATE_FIELDS)
    if unknown:
        raise BadRequest(f"unknown rate {sorted(unknown)[0]!r}; known: {', '.join(_RATE_FIELDS)}")
    values = {key: _number(doc, key) for key in _RATE_FIELDS}
    if values["bytes_per_second"] == 0:
        raise BadRequest("'bytes_per_second' must be > 0")
    for key, value in values.items():
        if value is not None:
            setattr(rates, key, float(value))
    return asdict(rates)


def register_control(router: Router) -> None:
    router.add("POST", "/transfer/collections/{collection_id}/files", put_file, auth=False)
    router.add("PUT", "/transfer/collections/{collection_id}/quota", set_quota, auth=False)
    router.add("GET", "/transfer/rates", get_rates, auth=False)
    router.add("PUT", "/transfer/rates", set_rates, auth=False)
