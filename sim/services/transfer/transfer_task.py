"""Transfer tasks: planning (sync levels, filter rules, quota) and applying the copies.

The planner walks the source once at submission and records each file to copy with its
completion offset; `TransferTask._apply` later places copies in the destination as the
clock passes those offsets (see tasks.py).
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orbit_sim.services.transfer.filesystem import DirNode, FileNode, FileSystem, VfsError
from orbit_sim.services.transfer.tasks import (
    Fault,
    PlanFault,
    Task,
    TaskRates,
    fault_from_vfs,
    iso_time,
)


@dataclass
class TransferTask(Task):
    # One entry per file: (source parent dir, destination parent dir, destination name, node).
    files: list[tuple[str, str, str, FileNode]] = field(default_factory=list)
    dirs_to_create: list[str] = field(default_factory=list)
    # (source dir, destination dir) of recursive items, for delete_destination_extra.
    recursive_pairs: list[tuple[str, str]] = field(default_factory=list)
    source_fs: FileSystem | None = None
    dest_fs: FileSystem | None = None
    # The destination's free quota (None: unlimited) and the bytes the plan needs.
    quota_left: Callable[[], int | None] | None = None
    planned_bytes: int = 0
    _dest_dir_cache: tuple[str, DirNode] | None = None

    def _fault_cleared(self) -> bool:
        left = self.quota_left() if self.quota_left is not None else None
        return left is None or self.planned_bytes <= left

    @property
    def checksums(self) -> bool:
        return bool(self.options.get("verify_checksum")) or self.options.get("sync_level") == 3

    def _option_fields(self) -> dict[str, Any]:
        opts = self.options
        return {
            "sync_level": opts.get("sync_level"),
            "verify_checksum": bool(opts.get("verify_checksum")),
            "preserve_timestamp": bool(opts.get("preserve_timestamp")),
            "encrypt_data": bool(opts.get("encrypt_data")),
            "skip_source_errors": bool(opts.get("skip_source_errors")),
            "fail_on_quota_errors": bool(opts.get("fail_on_quota_errors")),
            "delete_destination_extra": bool(opts.get("delete_destination_extra")),
            "recursive_symlinks": opts.get("recursive_symlinks") or "ignore",
        }

    def _dest_dir(self, path: str, now: float) -> DirNode:
        cached = self._dest_dir_cache
        if cached is not None and cached[0] == path:
            return cached[1]
        assert self.dest_fs is not None
        node = self.dest_fs.makedirs(path, now)
        self._dest_dir_cache = (path, node)
        return node

    def _apply(self, start: int, stop: int, now: float) -> None:
        dest = self.dest_fs
        assert dest is not None
        if start == 0:
            for path in self.dirs_to_create:
                dest.makedirs(path, self.start)
        preserve = bool(self.options.get("preserve_timestamp"))
        for index in range(start, stop):
            _, dst_parent, name, node = self.files[index]
            done_at = self.start + self.ends[index]
            parent = self._dest_dir(dst_parent, done_at)
            dest.place(parent, node.copy_as(name, node.mtime if preserve else done_at), done_at)

    def _finish(self, now: float) -> None:
        if not self.options.get("delete_destination_extra"):
            return
        assert self.source_fs is not None and self.dest_fs is not None
        for src_dir, dst_dir in self.recursive_pairs:
            _delete_extra(self.source_fs, src_dir, self.dest_fs, dst_dir, now)

    def successful_transfers(self) -> list[dict[str, str]]:
        return [
            {
                "DATA_TYPE": "successful_transfer",
                "source_path": posixpath.join(src_parent, name),
                "destination_path": posixpath.join(dst_parent, name),
            }
            for src_parent, dst_parent, name, _ in self.files[: self.applied]
        ]


def _delete_extra(
    source: FileSystem, src_dir: str, dest: FileSystem, dst_dir: str, now: float
) -> None:
    """Remove what `dst_dir` holds that `src_dir` does not (delete_destination_extra)."""
    try:
        dst_node = dest.directory(dst_dir)
        src_node = source.directory(src_dir)
    except VfsError:
        return
    for name in list(dst_node.sorted_names()):
        src_child = src_node.children.get(name)
        dst_child = dst_node.children[name]
        path = posixpath.join(dst_dir, name)
        if src_child is None or src_child.type != dst_child.type:
            dest.delete(path, now, recursive=True)
        elif isinstance(dst_child, DirNode):
            _delete_extra(source, posixpath.join(src_dir, name), dest, path, now)


@dataclass
class FilterRule:
    method: str  # include | exclude
    name: str
    type: str | None  # file | dir | None

    def matches(self, name: str, node_type: str) -> bool:
        return (self.type is None or self.type == node_type) and fnmatch.fnmatchcase(
            name, self.name
        )


def included(rules: list[FilterRule], name: str, node_type: str) -> bool:
    for rule in rules:
        if rule.matches(name, node_type):
            return rule.method == "include"
    return True


def needs_copy(src: FileNode, dst: FileSystem, dst_path: str, sync_level: int | None) -> bool:
    """Whether `sync_level` asks for this file to be copied over what the destination has."""
    if sync_level is None:
        return True
    try:
        existing = dst.lookup(dst_path)
    except VfsError:
        return True
    if not isinstance(existing, FileNode):
        return True
    if sync_level == 0:
        return False
    if existing.size != src.size:
        return True
    if sync_level == 1:
        return False
    if sync_level == 2:
        return existing.mtime < src.mtime
    return existing.checksum != src.checksum


@dataclass
class TransferItem:
    source_path: str
    destination_path: str
    recursive: bool


class TransferPlanner:
    """Builds a TransferTask's plan from its items against the two file systems."""

    def __init__(
        self,
        task: TransferTask,
        items: list[TransferItem],
        rules: list[FilterRule],
        rates: TaskRates,
        quota_left: Callable[[], int | None],
    ) -> None:
        self.task = task
        self.items = items
        self.rules = rules
        self.rates = rates
        self.quota_left = quota_left
        self.time = 0.0
        self.total_bytes = 0

    def plan(self) -> None:
        task = self.task
        assert task.source_fs is not None and task.dest_fs is not None
        try:
            for item in self.items:
                self._plan_item(item)
        except VfsError as err:
            task.found_fault(fault_from_vfs(err))
            return
        except PlanFault as fault:
            task.found_fault(fault.fault)
            return
        task.planned_bytes = self.total_bytes
        task.quota_left = self.quota_left
        left = self.quota_left()
        if left is not None and self.total_bytes > left:
            task.found_fault(
                Fault(
                    "QUOTA_EXCEEDED",
                    f"Destination quota exceeded: {self.total_bytes} bytes needed, {left} free",
                    # Globus keeps retrying a full destination unless told to give up.
                    retryable=not task.options.get("fail_on_quota_errors"),
                )
            )

    def _add_file(self, src_parent: str, dst_parent: str, name: str, node: FileNode) -> None:
        task = self.task
        self.time += self.rates.seconds_per_file + node.size / self.rates.bytes_per_second
        self.total_bytes += node.size
        task.files.append((src_parent, dst_parent, name, node))
        task.ends.append(self.time)
        task.cum_bytes.append(self.total_bytes)

    def _plan_item(self, item: TransferItem) -> None:
        task = self.task
        src_fs, dst_fs = task.source_fs, task.dest_fs
        assert src_fs is not None and dst_fs is not None
        src_abs = src_fs.absolute(item.source_path)
        dst_abs = dst_fs.absolute(item.destination_path)
        try:
            node = src_fs.lookup(src_abs)
        except VfsError as err:
            if task.options.get("skip_source_errors") and err.kind in ("not_found", "permission"):
                fault = fault_from_vfs(err)
                task.skipped_errors.append(
                    {
                        "DATA_TYPE": "skipped_error",
                        "error_code": fault.code,
                        "error_details": fault.description,
                        "error_time": iso_time(task.request_time),
                        "source_path": src_abs,
                        "destination_path": dst_abs,
                        "is_directory": item.recursive,
                        "is_delete_destination_extra": False,
                    }
                )
                return
            raise
        dst_fs.check_writable(dst_abs)
        sync_level = task.options.get("sync_level")
        if isinstance(node, FileNode):
            if item.recursive:
                raise PlanFault(Fault("NOT_A_DIRECTORY", f"'{src_abs}' is not a directory"))
            if needs_copy(node, dst_fs, dst_abs, sync_level):
                dst_parent, name = posixpath.split(dst_abs)
                self._add_file(posixpath.dirname(src_abs), dst_parent, name, node)
            else:
                task.files_skipped += 1
            return
        if not item.recursive:
            raise PlanFault(Fault("IS_A_DIRECTORY", f"'{src_abs}' is a directory"))
        task.recursive_pairs.append((src_abs, dst_abs))
        task.dirs_to_create.append(dst_abs)
        task.directories += 1
        self._plan_tree(node, src_abs, dst_abs, sync_level)

    def _plan_tree(self, top: DirNode, src_top: str, dst_top: str, sync_level: int | None) -> None:
        task = self.task
        dst_fs = task.dest_fs
        assert dst_fs is not None
        stack: list[tuple[DirNode, str, str]] = [(top, src_top, dst_top)]
        while stack:
            directory, src_dir, dst_dir = stack.pop()
            subdirs: list[tuple[DirNode, str, str]] = []
            for name in directory.sorted_names():
                child = directory.children[name]
                if not included(self.rules, name, child.type):
                    continue
                if isinstance(child, DirNode):
                    sub_dst = f"{dst_dir}/{name}" if dst_dir != "/" else f"/{name}"
                    sub_src = f"{src_dir}/{name}" if src_dir != "/" else f"/{name}"
                    subdirs.append((child, sub_src, sub_dst))
                    task.dirs_to_create.append(sub_dst)
                    task.directories += 1
                elif sync_level is None or needs_copy(
                    child, dst_fs, f"{dst_dir}/{name}", sync_level
                ):
                    self._add_file(src_dir, dst_dir, name, child)
                else:
                    task.files_skipped += 1
            stack.extend(reversed(subdirs))
