"""Delete tasks: the paths to remove (globs expanded) and their removal on the clock."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from orbit_sim.services.transfer.filesystem import FileNode, FileSystem, VfsError
from orbit_sim.services.transfer.tasks import Fault, PlanFault, Task, TaskRates, fault_from_vfs


@dataclass
class DeleteTask(Task):
    paths: list[str] = field(default_factory=list)
    file_counts: list[int] = field(default_factory=list)
    fs: FileSystem | None = None

    @property
    def files_total(self) -> int:
        return sum(self.file_counts)

    @property
    def applied_files(self) -> int:
        return sum(self.file_counts[: self.applied])

    def _option_fields(self) -> dict[str, Any]:
        return {
            "sync_level": None,
            "verify_checksum": False,
            "preserve_timestamp": False,
            "encrypt_data": False,
            "skip_source_errors": False,
            "fail_on_quota_errors": False,
            "delete_destination_extra": False,
            "recursive_symlinks": "ignore",
        }

    def _apply(self, start: int, stop: int, now: float) -> None:
        assert self.fs is not None
        recursive = bool(self.options.get("recursive"))
        for index in range(start, stop):
            done_at = self.start + self.ends[index]
            try:
                self.fs.delete(self.paths[index], done_at, recursive=recursive)
            except VfsError as err:
                if err.kind == "not_found" and self.options.get("ignore_missing"):
                    continue
                raise

    def plan(self, raw_paths: list[str], rates: TaskRates) -> None:
        fs = self.fs
        assert fs is not None
        recursive = bool(self.options.get("recursive"))
        elapsed = 0.0
        try:
            for raw in raw_paths:
                absolute = fs.absolute(raw)
                matches = fs.glob(absolute) if self.options.get("interpret_globs") else [absolute]
                if not matches and self.options.get("ignore_missing"):
                    continue
                for path in matches or [absolute]:
                    count = self._count(path, recursive)
                    if count is None:
                        continue
                    elapsed += rates.seconds_per_delete * (count + 1)
                    self.paths.append(path)
                    self.file_counts.append(count)
                    self.ends.append(elapsed)
                    self.cum_bytes.append(0)
        except VfsError as err:
            self.found_fault(fault_from_vfs(err))
        except PlanFault as fault:
            self.found_fault(fault.fault)

    def _count(self, path: str, recursive: bool) -> int | None:
        fs = self.fs
        assert fs is not None
        try:
            node = fs.lookup(path)
        except VfsError as err:
            if err.kind == "not_found" and self.options.get("ignore_missing"):
                return None
            raise
        fs.check_writable(posixpath.dirname(path) or "/")
        if isinstance(node, FileNode):
            return 1
        if node.children and not recursive:
            raise PlanFault(Fault("DIRECTORY_NOT_EMPTY", f"'{path}' is a directory"))
        self.directories += 1
        return sum(1 for _ in fs.walk_files(path))
