"""File operations on a collection: `operation/endpoint/{id}/ls|mkdir|rename|stat`.

Error codes and statuses follow the real service: a missing path is 404, a path the
collection's permissions deny is 403 `EndpointPermissionDenied`, a failure the storage
reports is 502 `ExternalError.<Operation>Failed.<Reason>`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import JSON_TYPE, ApiError, BadRequest, Request, Response, Router
from orbit_sim.services.transfer.collections import Collection
from orbit_sim.services.transfer.consent import require_data_access
from orbit_sim.services.transfer.filesystem import FileSystem, VfsError
from orbit_sim.services.transfer.listing import (
    ListRequest,
    entries_json,
    entry_document,
    list_directory,
)

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

LS_LIMIT_MAX = 100_000
# Stands in for the entries while the rest of a listing document is encoded.
_ENTRIES = "@@orbit-sim-entries@@"
_FAILED_REASONS = {"exists": "Exists", "not_dir": "NotDirectory", "is_dir": "IsDirectory"}


def storage_error(err: VfsError, collection: Collection, operation: str) -> ApiError:
    """The Transfer error reply for a file-system failure during `operation`."""
    where = f"Endpoint: {collection.display_name} ({collection.id})"
    if err.kind == "not_found":
        code = "NotFound" if operation == "Stat" else "ClientError.NotFound"
        return ApiError(404, code, f"Path not found, {where}\nMessage: {err.message}")
    if err.kind == "permission":
        return ApiError(
            403, "EndpointPermissionDenied", f"Denied by endpoint, {where}\n{err.message}"
        )
    reason = _FAILED_REASONS.get(err.kind, "Unknown")
    return ApiError(502, f"ExternalError.{operation}Failed.{reason}", f"{err.message}\n{where}")


def open_collection(sim: Simulator, request: Request) -> Collection:
    """The addressed collection, after settling tasks and checking data_access consent."""
    data = sim.transfer.data
    data.settle(sim.clock.now())
    collection = data.collection(request.params["endpoint_id"])
    require_data_access(collection, request.token)
    return collection


def _body_path(request: Request, key: str) -> str:
    value = request.json_object().get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{key}' is required and must be a non-empty string")
    return value


def result_document(request: Request, data_type: str, code: str, message: str) -> dict[str, Any]:
    """The small `{DATA_TYPE, code, message, request_id, resource}` reply of an action."""
    return {
        "DATA_TYPE": data_type,
        "code": code,
        "message": message,
        "request_id": request.request_id,
        "resource": request.path,
    }


def operation_ls(sim: Simulator, request: Request) -> Response:
    collection = open_collection(sim, request)
    fs = collection.fs
    path = request.arg("path") or collection.default_directory
    show_hidden = (request.arg("show_hidden") or "1").lower() not in ("0", "false")
    listing = ListRequest(
        filters=request.query.get("filter", []),
        orderby=request.arg("orderby"),
        show_hidden=show_hidden,
        limit=request.int_arg("limit", LS_LIMIT_MAX, minimum=0, maximum=LS_LIMIT_MAX),
        offset=request.int_arg("offset", 0),
    )
    try:
        directory = fs.directory(path)
    except VfsError as err:
        raise storage_error(err, collection, "DirListing") from None
    page, total = list_directory(directory, listing)
    absolute = FileSystem.as_dir_path(fs.absolute(path))
    doc = {
        "DATA_TYPE": "file_list",
        "DATA": _ENTRIES,
        "absolute_path": absolute,
        "endpoint": collection.id,
        "path": path,
        "length": len(page),
        "total": total,
        "limit": listing.limit,
        "offset": listing.offset,
        "rename_supported": True,
        "symlink_supported": False,
    }
    # Big listings are the hot path: the entries are encoded directly, then spliced in.
    head = json.dumps(doc, separators=(",", ":"))
    body = head.replace(f'"{_ENTRIES}"', entries_json(page, fs), 1).encode()
    return Response(status=200, body=body, headers={"Content-Type": JSON_TYPE})


def operation_stat(sim: Simulator, request: Request) -> dict[str, Any]:
    collection = open_collection(sim, request)
    path = request.arg("path") or collection.default_directory
    try:
        node = collection.fs.lookup(path)
    except VfsError as err:
        raise storage_error(err, collection, "Stat") from None
    return entry_document(node, collection.fs)


def operation_mkdir(sim: Simulator, request: Request) -> dict[str, Any]:
    collection = open_collection(sim, request)
    path = _body_path(request, "path")
    try:
        collection.fs.mkdir(path, sim.clock.now())
    except VfsError as err:
        raise storage_error(err, collection, "Mkdir") from None
    return result_document(
        request, "mkdir_result", "DirectoryCreated", "The directory was created successfully"
    )


def operation_rename(sim: Simulator, request: Request) -> dict[str, Any]:
    collection = open_collection(sim, request)
    old_path = _body_path(request, "old_path")
    new_path = _body_path(request, "new_path")
    try:
        collection.fs.rename(old_path, new_path, sim.clock.now())
    except VfsError as err:
        raise storage_error(err, collection, "Rename") from None
    return result_document(
        request, "result", "FileRenamed", "File or directory renamed successfully"
    )


def register(router: Router) -> None:
    prefix = "/v0.10/operation/endpoint/{endpoint_id}"
    router.add("GET", f"{prefix}/ls", operation_ls)
    router.add("GET", f"{prefix}/stat", operation_stat)
    router.add("POST", f"{prefix}/mkdir", operation_mkdir)
    router.add("POST", f"{prefix}/rename", operation_rename)
