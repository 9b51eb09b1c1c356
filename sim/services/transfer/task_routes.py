"""Task submission and management routes: submission_id, transfer, delete, task/{id},
cancel, task_list, event_list, successful_transfers, skipped_errors.

Tasks belong to the identity that submitted them: another identity gets 403 for an
existing task id (404 for an unknown one), and task_list only shows the caller's tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import ApiError, BadRequest, NotFound, Request, Response, Router
from orbit_sim.services.transfer.collections import Collection, TransferData
from orbit_sim.services.transfer.consent import require_data_access
from orbit_sim.services.transfer.delete_task import DeleteTask
from orbit_sim.services.transfer.listing import parse_orderby
from orbit_sim.services.transfer.operations import result_document
from orbit_sim.services.transfer.tasks import (
    DEFAULT_DEADLINE_SECONDS,
    CollectionRef,
    Task,
    parse_time,
)
from orbit_sim.services.transfer.transfer_task import (
    FilterRule,
    TransferItem,
    TransferPlanner,
    TransferTask,
)

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

TASK_LIST_LIMIT_MAX = 1000
MARKER_PAGE_SIZE = 1000
SYNC_LEVELS = {"exists": 0, "size": 1, "mtime": 2, "checksum": 3}
TASK_STATUSES = {"ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED"}


class TaskNotFound(NotFound):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"Task {task_id} not found", code="TaskNotFound")


# -- helpers ----------------------------------------------------------------------------------


def _caller(sim: Simulator, request: Request) -> tuple[str, str]:
    """(identity id, username) of the bearer token's owner."""
    assert request.token is not None
    identity_id = request.token.identity_id
    identity = sim.auth.identities.get(identity_id)
    return identity_id, identity.username if identity else identity_id


def _owned_task(sim: Simulator, request: Request) -> Task:
    data = sim.transfer.data
    data.settle(sim.clock.now())
    task_id = request.params["task_id"].lower()
    task = data.tasks.get(task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if task.owner_id != _caller(sim, request)[0]:
        raise ApiError(
            403, "PermissionDenied", f"You do not have permission to access task {task_id}"
        )
    return task


def _flag(doc: dict[str, Any], key: str) -> bool:
    value = doc.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"'{key}' must be a boolean")
    return value


def _string(doc: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{key}' is required and must be a non-empty string")
    return value


def _deadline(doc: dict[str, Any], now: float) -> float:
    raw = doc.get("deadline")
    if raw is None:
        return now + DEFAULT_DEADLINE_SECONDS
    try:
        return parse_time(str(raw))
    except ValueError:
        raise BadRequest(f"Invalid deadline: {raw!r}") from None


def _sync_level(doc: dict[str, Any]) -> int | None:
    raw = doc.get("sync_level")
    if raw is None:
        return None
    if isinstance(raw, str) and raw in SYNC_LEVELS:
        return SYNC_LEVELS[raw]
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 3:
        return raw
    raise BadRequest(f"Invalid sync_level: {raw!r} (0-3)")


def _filter_rules(doc: dict[str, Any]) -> list[FilterRule]:
    rules = []
    for raw in doc.get("filter_rules") or []:
        if not isinstance(raw, dict) or raw.get("method") not in ("include", "exclude"):
            raise BadRequest("Each filter rule needs method 'include' or 'exclude'")
        if raw.get("type") not in (None, "file", "dir") or not isinstance(raw.get("name"), str):
            raise BadRequest("Each filter rule needs a name and type 'file', 'dir' or none")
        rules.append(FilterRule(raw["method"], raw["name"], raw.get("type")))
    return rules


def _items(doc: dict[str, Any], data_type: str) -> list[dict[str, Any]]:
    items = doc.get("DATA")
    if not isinstance(items, list) or not items:
        noun = "transfer" if data_type == "transfer_item" else "delete"
        raise BadRequest(
            f"A {noun} requires at least one item",
            code="ClientError.BadRequest.NoTransferItems",
        )
    for item in items:
        if not isinstance(item, dict) or item.get("DATA_TYPE", data_type) != data_type:
            raise BadRequest(f"Every item must be a {data_type} document")
    return items


def _open(data: TransferData, request: Request, collection_id: Any) -> Collection:
    if not isinstance(collection_id, str) or not collection_id:
        raise BadRequest("source and destination collections are required")
    collection = data.collection(collection_id)
    require_data_access(collection, request.token)
    return collection


def _submission(data: TransferData, doc: dict[str, Any], owner_id: str) -> tuple[str, Task | None]:
    """The submission id to use and the task it already created, if any (idempotency)."""
    submission_id = _string(doc, "submission_id")
    assert submission_id is not None
    known = data.submissions.get(submission_id)
    if known is not None and known.owner_id != owner_id:
        raise BadRequest("Invalid submission_id", code="ClientError.BadRequest.InvalidSubmissionId")
    if known is not None and known.task_id is not None:
        return submission_id, data.tasks[known.task_id]
    return submission_id, None


def _submit_result(request: Request, task: Task, kind: str, duplicate: bool) -> Response:
    noun = "transfer" if kind == "transfer" else "delete"
    doc = {
        "DATA_TYPE": f"{kind}_result",
        "code": "Duplicate" if duplicate else "Accepted",
        "message": (
            f"A {noun} with this submission_id was already accepted"
            if duplicate
            else f"The {noun} has been accepted and a task has been created and queued "
            "for execution"
        ),
        "request_id": request.request_id,
        "resource": request.path,
        "submission_id": task.submission_id,
        "task_id": task.task_id,
        "task_link": {
            "DATA_TYPE": "link",
            "href": f"/v0.10/task/{task.task_id}?format=json",
            "rel": "related",
            "resource": "task",
            "title": "related task",
        },
    }
    return Response.json(doc, status=200 if duplicate else 202)


# -- submission -------------------------------------------------------------------------------


def get_submission_id(sim: Simulator, request: Request) -> dict[str, Any]:
    owner_id, _ = _caller(sim, request)
    return {"value": sim.transfer.data.new_submission_id(owner_id)}


@dataclass
class _Submission:
    """What both submit routes read first: the document, the caller, idempotency."""

    data: TransferData
    now: float
    doc: dict[str, Any]
    owner_id: str
    username: str
    submission_id: str
    existing: Task | None


def _begin_submission(sim: Simulator, request: Request, data_type: str) -> _Submission:
    data = sim.transfer.data
    now = sim.clock.now()
    data.settle(now)
    doc = request.json_object()
    if doc.get("DATA_TYPE", data_type) != data_type:
        raise BadRequest(f"DATA_TYPE must be '{data_type}'")
    owner_id, username = _caller(sim, request)
    submission_id, existing = _submission(data, doc, owner_id)
    return _Submission(data, now, doc, owner_id, username, submission_id, existing)


def submit_transfer(sim: Simulator, request: Request) -> Response:
    sub = _begin_submission(sim, request, "transfer")
    if sub.existing is not None:
        return _submit_result(request, sub.existing, "transfer", duplicate=True)
    doc = sub.doc
    raw_items = _items(doc, "transfer_item")
    source = _open(sub.data, request, doc.get("source_endpoint"))
    destination = _open(sub.data, request, doc.get("destination_endpoint"))
    items = [
        TransferItem(
            source_path=str(_string(item, "source_path")),
            destination_path=str(_string(item, "destination_path")),
            recursive=_flag(item, "recursive"),
        )
        for item in raw_items
    ]
    options = {
        "sync_level": _sync_level(doc),
        "filter_rules": doc.get("filter_rules"),
        "recursive_symlinks": doc.get("recursive_symlinks"),
        # Transfer verifies checksums unless told not to.
        "verify_checksum": doc.get("verify_checksum") is None or _flag(doc, "verify_checksum"),
        **{
            key: _flag(doc, key)
            for key in (
                "preserve_timestamp",
                "encrypt_data",
                "skip_source_errors",
                "fail_on_quota_errors",
                "delete_destination_extra",
            )
        },
    }
    task = TransferTask(
        task_id=str(uuid.uuid4()),
        type="TRANSFER",
        owner_id=sub.owner_id,
        username=sub.username,
        source=CollectionRef(source.id, source.display_name),
        destination=CollectionRef(destination.id, destination.display_name),
        request_time=sub.now,
        label=_string(doc, "label", required=False),
        submission_id=sub.submission_id,
        deadline=_deadline(doc, sub.now),
        options=options,
        source_fs=source.fs,
        dest_fs=destination.fs,
    )
    task.add_event(sub.now, "STARTED", "Task started")
    rules = _filter_rules(doc)
    TransferPlanner(task, items, rules, sub.data.rates, destination.quota_left).plan()
    sub.data.add_task(task)
    return _submit_result(request, task, "transfer", duplicate=False)


def submit_delete(sim: Simulator, request: Request) -> Response:
    sub = _begin_submission(sim, request, "delete")
    if sub.existing is not None:
        return _submit_result(request, sub.existing, "delete", duplicate=True)
    doc = sub.doc
    raw_items = _items(doc, "delete_item")
    collection = _open(sub.data, request, doc.get("endpoint"))
    paths = [str(_string(item, "path")) for item in raw_items]
    task = DeleteTask(
        task_id=str(uuid.uuid4()),
        type="DELETE",
        owner_id=sub.owner_id,
        username=sub.username,
        source=CollectionRef(collection.id, collection.display_name),
        destination=None,
        request_time=sub.now,
        label=_string(doc, "label", required=False),
        submission_id=sub.submission_id,
        deadline=_deadline(doc, sub.now),
        options={
            key: _flag(doc, key) for key in ("recursive", "ignore_missing", "interpret_globs")
        },
        fs=collection.fs,
    )
    task.add_event(sub.now, "STARTED", "Task started")
    task.plan(paths, sub.data.rates)
    sub.data.add_task(task)
    return _submit_result(request, task, "delete", duplicate=False)


# -- task management --------------------------------------------------------------------------


def get_task(sim: Simulator, request: Request) -> dict[str, Any]:
    return _owned_task(sim, request).document(sim.clock.now())


def update_task(sim: Simulator, request: Request) -> dict[str, Any]:
    task = _owned_task(sim, request)
    if task.status != "ACTIVE":
        raise ApiError(409, "Conflict", f"Task {task.task_id} is not active and cannot be updated")
    doc = request.json_object()
    unknown = set(doc) - {"DATA_TYPE", "label", "deadline"}
    if unknown:
        raise BadRequest(f"Only label and deadline can be updated, not {sorted(unknown)[0]!r}")
    if "label" in doc:
        task.label = _string(doc, "label", required=False)
    if "deadline" in doc:
        task.deadline = _deadline(doc, task.request_time)
    return result_document(request, "result", "Updated", "Task updated successfully")


def cancel_task(sim: Simulator, request: Request) -> dict[str, Any]:
    task = _owned_task(sim, request)
    data = sim.transfer.data
    if task.cancel(sim.clock.now()):
        data.active.pop(task.task_id, None)
        return result_document(
            request, "result", "Canceled", "The task has been cancelled successfully."
        )
    return result_document(
        request, "result", "TaskComplete", "The task completed before it could be cancelled."
    )


# -- task_list --------------------------------------------------------------------------------


def _task_filter(text: str) -> Callable[[Task], bool]:
    checks: list[Callable[[Task], bool]] = []
    for clause in text.split("/"):
        if not clause:
            continue
        key, sep, value = clause.partition(":")
        if not sep:
            raise BadRequest(f"Invalid filter clause: {clause!r}")
        checks.append(_task_clause(key, value))
    return lambda task: all(check(task) for check in checks)


def _task_clause(key: str, value: str) -> Callable[[Task], bool]:
    values = set(value.split(","))
    if key == "status":
        if values - TASK_STATUSES:
            raise BadRequest(f"Invalid status filter: {value!r}")
        return lambda task: task.status in values
    if key == "type":
        upper = {v.upper() for v in values}
        return lambda task: task.type in upper
    if key == "task_id":
        ids = {v.lower() for v in values}
        return lambda task: task.task_id in ids
    if key == "label":
        if value.startswith("~"):
            needle = value[1:].lower()
            return lambda task: needle in (task.label or "").lower()
        return lambda task: (task.label or "") in values
    if key in ("request_time", "completion_time"):
        start_text, _, end_text = value.partition(",")
        try:
            start = parse_time(start_text) if start_text else None
            end = parse_time(end_text) if end_text else None
        except ValueError:
            raise BadRequest(f"Invalid {key} filter: {value!r}") from None

        def in_range(task: Task) -> bool:
            moment = getattr(task, key)
            return (
                moment is not None
                and (start is None or moment >= start)
                and (end is None or moment < end)
            )

        return in_range
    raise BadRequest(f"Unsupported task_list filter: {key!r}")


_TASK_ORDER_KEYS: dict[str, Callable[[Task], Any]] = {
    "request_time": lambda task: (task.request_time, task.sequence),
    "completion_time": lambda task: task.completion_time or 0.0,
    "label": lambda task: task.label or "",
    "status": lambda task: task.status,
    "type": lambda task: task.type,
    "task_id": lambda task: task.task_id,
}


def task_list(sim: Simulator, request: Request) -> dict[str, Any]:
    data = sim.transfer.data
    now = sim.clock.now()
    data.settle(now)
    owner_id, _ = _caller(sim, request)
    limit = request.int_arg("limit", 10, minimum=1, maximum=TASK_LIST_LIMIT_MAX)
    offset = request.int_arg("offset", 0)
    matches = [data.tasks[task_id] for task_id in data.task_order]
    matches = [task for task in matches if task.owner_id == owner_id]
    filter_text = request.arg("filter")
    if filter_text:
        wanted = _task_filter(filter_text)
        matches = [task for task in matches if wanted(task)]
    orderby = request.arg("orderby") or "request_time DESC"
    # Stable sorts from the last key to the first give a multi-key order.
    for field_name, descending in reversed(parse_orderby(orderby, _TASK_ORDER_KEYS)):
        matches.sort(key=_TASK_ORDER_KEYS[field_name], reverse=descending)
    page = matches[offset : offset + limit]
    return {
        "DATA_TYPE": "task_list",
        "DATA": [task.document(now) for task in page],
        "length": len(page),
        "limit": limit,
        "offset": offset,
        "total": len(matches),
    }


# -- per-task listings ------------------------------------------------------------------------


def task_event_list(sim: Simulator, request: Request) -> dict[str, Any]:
    task = _owned_task(sim, request)
    limit = request.int_arg("limit", 10, minimum=1, maximum=TASK_LIST_LIMIT_MAX)
    offset = request.int_arg("offset", 0)
    events = list(reversed(task.events))  # newest first, like the real event list
    page = events[offset : offset + limit]
    return {
        "DATA_TYPE": "event_list",
        "DATA": page,
        "length": len(page),
        "limit": limit,
        "offset": offset,
        "total": len(events),
    }


def _marker_page(request: Request, entries: list[dict[str, Any]], data_type: str) -> dict[str, Any]:
    marker = request.int_arg("marker", 0)
    page = entries[marker : marker + MARKER_PAGE_SIZE]
    next_marker = marker + len(page)
    return {
        "DATA_TYPE": data_type,
        "marker": marker,
        "next_marker": next_marker if next_marker < len(entries) else None,
        "DATA": page,
    }


def task_successful_transfers(sim: Simulator, request: Request) -> dict[str, Any]:
    task = _owned_task(sim, request)
    entries = task.successful_transfers() if isinstance(task, TransferTask) else []
    return _marker_page(request, entries, "successful_transfers")


def task_skipped_errors(sim: Simulator, request: Request) -> dict[str, Any]:
    task = _owned_task(sim, request)
    return _marker_page(request, task.skipped_errors, "skipped_errors")


def task_pause_info(sim: Simulator, request: Request) -> dict[str, Any]:
    _owned_task(sim, request)  # the simulator never pauses tasks
    return {
        "DATA_TYPE": "pause_info_limited",
        "pause_rules": [],
        "source_pause_message": None,
        "destination_pause_message": None,
    }


def register(router: Router) -> None:
    router.add("GET", "/v0.10/submission_id", get_submission_id)
    router.add("POST", "/v0.10/transfer", submit_transfer)
    router.add("POST", "/v0.10/delete", submit_delete)
    router.add("GET", "/v0.10/task_list", task_list)
    router.add("GET", "/v0.10/task/{task_id}", get_task)
    router.add("PUT", "/v0.10/task/{task_id}", update_task)
    router.add("POST", "/v0.10/task/{task_id}/cancel", cancel_task)
    router.add("GET", "/v0.10/task/{task_id}/event_list", task_event_list)
    router.add("GET", "/v0.10/task/{task_id}/successful_transfers", task_successful_transfers)
    router.add("GET", "/v0.10/task/{task_id}/skipped_errors", task_skipped_errors)
    router.add("GET", "/v0.10/task/{task_id}/pause_info", task_pause_info)
