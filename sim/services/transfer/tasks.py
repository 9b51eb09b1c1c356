"""Tasks whose progress is a function of the simulator's clock (the shared part; see
transfer_task.py and delete_task.py for the two kinds).

A task is planned once, at submission: its steps (files to copy, paths to delete) with
the moment each one completes, as offsets from the start in flat arrays. Its state at
time t is then a binary search, not a tick per file, and `settle(now)` applies the steps
completed since the last look to the file system, so files appear as they complete and
memory grows with the file count only.

Problems found while planning (missing source, permission denied) behave as on Globus:
the task stays ACTIVE with a `nice_status` naming the fault for a short retry window,
then ends FAILED with a `fatal_error`. A full destination (QUOTA_EXCEEDED) is retried
until space frees or the deadline (default: a day) passes, unless `fail_on_quota_errors`.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orbit_sim.services.transfer.filesystem import VfsError

# How long a fatal fault shows as nice_status on an ACTIVE task before it FAILs.
FAULT_RETRY_SECONDS = 2.0
# A task without a deadline gets one a day after its request, as on Globus.
DEFAULT_DEADLINE_SECONDS = 24 * 3600.0

NICE_DESCRIPTIONS = {
    "FILE_NOT_FOUND": "file not found",
    "PERMISSION_DENIED": "permission denied",
    "QUOTA_EXCEEDED": "quota exceeded",
    "IS_A_DIRECTORY": "source is a directory; recursive transfer required",
    "NOT_A_DIRECTORY": "a path component is not a directory",
    "DIRECTORY_NOT_EMPTY": "directory is not empty; recursive delete required",
}


@dataclass
class TaskRates:
    """How fast simulated tasks move (per task)."""

    bytes_per_second: float = 100 * 1024 * 1024
    seconds_per_file: float = 0.005
    seconds_per_delete: float = 0.001


def iso_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def parse_time(value: str) -> float:
    """An ISO-8601 date or datetime (Globus deadlines, filter ranges) as unix seconds."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


@dataclass
class Fault:
    code: str
    description: str
    # A retryable fault keeps the task ACTIVE (retrying) until it clears or the deadline
    # passes, like a full destination without fail_on_quota_errors.
    retryable: bool = False

    def as_fatal_error(self) -> dict[str, str]:
        return {"code": self.code, "description": self.description}


def fault_from_vfs(err: VfsError) -> Fault:
    code = {
        "not_found": "FILE_NOT_FOUND",
        "permission": "PERMISSION_DENIED",
        "not_dir": "NOT_A_DIRECTORY",
        "not_empty": "DIRECTORY_NOT_EMPTY",
        "is_dir": "IS_A_DIRECTORY",
    }.get(err.kind, "ENDPOINT_ERROR")
    return Fault(code, err.message)


@dataclass
class CollectionRef:
    """What a task document says about a collection."""

    id: str
    display_name: str


@dataclass
class Task:
    task_id: str
    type: str  # "TRANSFER" | "DELETE"
    owner_id: str
    username: str
    source: CollectionRef
    destination: CollectionRef | None
    request_time: float
    label: str | None
    submission_id: str
    deadline: float | None
    options: dict[str, Any]
    status: str = "ACTIVE"
    completion_time: float | None = None
    fatal_error: dict[str, str] | None = None
    # Fault found at planning time; the task fails once the retry window has passed.
    pending_fault: Fault | None = None
    faults: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    # When the timeline below starts: the request time, or when a retried fault cleared.
    started_at: float | None = None
    # The plan: completion offsets (s from started_at) and cumulative bytes per step.
    ends: array = field(default_factory=lambda: array("d"))
    cum_bytes: array = field(default_factory=lambda: array("q"))
    applied: int = 0
    files_skipped: int = 0
    skipped_errors: list[dict[str, Any]] = field(default_factory=list)
    directories: int = 0
    # Submission order, the tie-breaker of tasks submitted at the same (virtual) time.
    sequence: int = 0
    # A finished task's document never changes again: built once, then served as is.
    _final_document: dict[str, Any] | None = field(default=None, repr=False)

    # -- subclass hooks ----------------------------------------------------------------------

    def _apply(self, start: int, stop: int, now: float) -> None:
        raise NotImplementedError

    def _finish(self, now: float) -> None:
        """Work done when the last step completed (before the task turns SUCCEEDED)."""

    @property
    def step_count(self) -> int:
        return len(self.ends)

    # -- progress ----------------------------------------------------------------------------

    def add_event(self, at: float, code: str, description: str, *, error: bool = False) -> None:
        self.events.append(
            {
                "DATA_TYPE": "event",
                "code": code,
                "description": description,
                "details": description,
                "is_error": error,
                "time": iso_time(at),
            }
        )

    @property
    def start(self) -> float:
        return self.request_time if self.started_at is None else self.started_at

    def _fault_cleared(self) -> bool:
        """Whether a retryable fault has gone away (subclasses know how to look)."""
        return False

    def settle(self, now: float) -> None:
        """Bring the task's visible state (and the destination) up to time `now`."""
        if self.status != "ACTIVE":
            return
        horizon = now if self.deadline is None else min(now, self.deadline)
        fault = self.pending_fault
        if fault is not None:
            if fault.retryable and self._fault_cleared():
                # It cleared some time after it was last seen: resume from then.
                resumed = self.started_at if self.started_at is not None else self.request_time
                self.pending_fault = None
                self.started_at = resumed
                self.add_event(resumed, "PROGRESS", f"{fault.code} cleared; transfer resumed")
            elif fault.retryable:
                self.started_at = horizon  # last seen still failing
                if self.deadline is not None and now >= self.deadline:
                    self._fail(self.deadline, fault)
                return
            elif horizon - self.request_time >= FAULT_RETRY_SECONDS:
                self._fail(self.request_time + FAULT_RETRY_SECONDS, fault)
                return
            elif self.deadline is not None and now >= self.deadline:
                self._fail(self.deadline, Fault("EXPIRED", "the task deadline was reached"))
                return
            else:
                return
        done = bisect_right(self.ends, horizon - self.start)
        if done > self.applied:
            try:
                self._apply(self.applied, done, now)
            except VfsError as err:
                self.faults += 1
                self._fail(now, fault_from_vfs(err))
                return
            self.applied = done
        if done == self.step_count:
            finished_at = self.start + (self.ends[-1] if self.ends else 0.0)
            try:
                self._finish(finished_at)
            except VfsError as err:
                self._fail(finished_at, fault_from_vfs(err))
                return
            self.status = "SUCCEEDED"
            self.completion_time = finished_at
            self.add_event(finished_at, "SUCCEEDED", "Task succeeded")
        elif self.deadline is not None and now >= self.deadline:
            self._fail(self.deadline, Fault("EXPIRED", "the task deadline was reached"))

    def found_fault(self, fault: Fault) -> None:
        """A fault found while planning: shown as nice_status until the task FAILs."""
        self.pending_fault = fault
        self.faults += 1
        self.add_event(self.request_time, fault.code, fault.description, error=True)

    def _fail(self, at: float, fault: Fault) -> None:
        self.status = "FAILED"
        self.completion_time = at
        self.fatal_error = fault.as_fatal_error()
        self.add_event(at, fault.code, fault.description, error=True)

    def cancel(self, now: float) -> bool:
        """Cancel an ACTIVE task (True) or report that it had already ended (False)."""
        self.settle(now)
        if self.status != "ACTIVE":
            return False
        self._fail(now, Fault("CANCELED", "The task was canceled by the user"))
        return True

    def bytes_done(self, now: float) -> int:
        if self.applied == 0 and self.status != "ACTIVE":
            return 0
        done_bytes = self.cum_bytes[self.applied - 1] if self.applied else 0
        if self.status != "ACTIVE" or self.applied >= self.step_count:
            return done_bytes
        # Part of the file in flight, at the task's rate.
        start = self.ends[self.applied - 1] if self.applied else 0.0
        end = self.ends[self.applied]
        size = self.cum_bytes[self.applied] - done_bytes
        elapsed = min(now, self.deadline or now) - self.start
        if end <= start or size <= 0:
            return done_bytes
        fraction = max(0.0, min(1.0, (elapsed - start) / (end - start)))
        return done_bytes + int(size * fraction)

    @property
    def nice_status(self) -> str | None:
        if self.status != "ACTIVE":
            return None
        return self.pending_fault.code if self.pending_fault else "OK"

    def document(self, now: float) -> dict[str, Any]:
        if self._final_document is not None:
            return self._final_document
        doc = self._build_document(now)
        if self.status != "ACTIVE":
            self._final_document = doc
        return doc

    def _build_document(self, now: float) -> dict[str, Any]:
        bytes_done = self.bytes_done(now)
        end = self.completion_time if self.completion_time is not None else now
        elapsed = max(end - self.request_time, 1e-9)
        files_total = self.files_total
        files_done = self.applied_files
        skipped_errors = len(self.skipped_errors)
        succeeded = files_done + self.files_skipped
        failed = 1 if self.status == "FAILED" else 0
        subtasks_total = files_total + self.files_skipped + skipped_errors
        nice = self.nice_status
        pending = max(subtasks_total - succeeded - skipped_errors - failed, 0)
        dest = self.destination
        doc: dict[str, Any] = {
            "DATA_TYPE": "task",
            "task_id": self.task_id,
            "type": self.type,
            "status": self.status,
            "label": self.label,
            "owner_id": self.owner_id,
            "owner_string": self.username,
            "username": self.username,
            "command": "API 0.10",
            "request_time": iso_time(self.request_time),
            "completion_time": iso_time(self.completion_time),
            "deadline": iso_time(self.deadline),
            "source_endpoint": self.source.display_name,
            "source_endpoint_id": self.source.id,
            "source_endpoint_display_name": self.source.display_name,
            "source_base_path": None,
            "source_host_endpoint": None,
            "source_host_endpoint_display_name": None,
            "source_host_endpoint_id": None,
            "source_host_path": None,
            "source_local_user": None,
            "source_local_user_status": None,
            "source_mapped_collection_display_name": None,
            "source_mapped_collection_id": None,
            "destination_endpoint": dest.display_name if dest else None,
            "destination_endpoint_id": dest.id if dest else None,
            "destination_endpoint_display_name": dest.display_name if dest else None,
            "destination_base_path": None,
            "destination_host_endpoint": None,
            "destination_host_endpoint_display_name": None,
            "destination_host_endpoint_id": None,
            "destination_host_path": None,
            "destination_local_user": None,
            "destination_local_user_status": None,
            "destination_mapped_collection_display_name": None,
            "destination_mapped_collection_id": None,
            "bytes_transferred": bytes_done,
            "bytes_checksummed": bytes_done if self.checksums else 0,
            "effective_bytes_per_second": int(bytes_done / elapsed),
            "files": files_total + self.files_skipped,
            "files_transferred": files_done,
            "files_skipped": self.files_skipped,
            "directories": self.directories,
            "symlinks": 0,
            "faults": self.faults,
            "fatal_error": self.fatal_error,
            "is_ok": None if self.status != "ACTIVE" else nice == "OK",
            "is_paused": False,
            "nice_status": nice,
            "nice_status_details": (
                self.pending_fault.description if self.pending_fault and nice else None
            ),
            "nice_status_expires_in": None,
            "nice_status_short_description": (
                NICE_DESCRIPTIONS.get(nice, nice) if nice not in (None, "OK") else nice
            ),
            "canceled_by_admin": None,
            "canceled_by_admin_message": None,
            "history_deleted": False,
            "subtasks_total": subtasks_total,
            "subtasks_succeeded": succeeded,
            "subtasks_pending": pending if self.status == "ACTIVE" else 0,
            "subtasks_retrying": 1 if nice not in (None, "OK") else 0,
            "subtasks_failed": failed,
            "subtasks_canceled": 0,
            "subtasks_expired": 0,
            "subtasks_skipped_errors": skipped_errors,
            "filter_rules": self.options.get("filter_rules"),
            "submission_id": self.submission_id,
        }
        doc.update(self._option_fields())
        return doc

    # Overridden by the concrete task kinds.
    @property
    def files_total(self) -> int:
        return self.step_count

    @property
    def applied_files(self) -> int:
        return self.applied

    @property
    def checksums(self) -> bool:
        return False

    def _option_fields(self) -> dict[str, Any]:
        return {}


class PlanFault(Exception):
    """Raised while planning for a fault that is not a file-system error."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.description)
        self.fault = fault
