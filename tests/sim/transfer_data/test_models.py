"""The transfer-data model without HTTP: file systems, listings, task plans and progress."""

from __future__ import annotations

import json

import pytest

from orbit_sim.core.http import ApiError
from orbit_sim.services.transfer.delete_task import DeleteTask
from orbit_sim.services.transfer.filesystem import FileSystem, VfsError, checksum_of
from orbit_sim.services.transfer.listing import (
    ListRequest,
    entries_json,
    entry_document,
    list_directory,
)
from orbit_sim.services.transfer.tasks import FAULT_RETRY_SECONDS, CollectionRef, TaskRates
from orbit_sim.services.transfer.transfer_task import (
    FilterRule,
    TransferItem,
    TransferPlanner,
    TransferTask,
)

T0 = 1_700_000_000.0


def make_fs(home: str = "/home/u") -> FileSystem:
    return FileSystem(home, T0)


def transfer(
    src: FileSystem,
    dst: FileSystem,
    items: list[TransferItem],
    *,
    rules: list[FilterRule] | None = None,
    rates: TaskRates | None = None,
    quota: int | None = None,
    **options: object,
) -> TransferTask:
    task = TransferTask(
        task_id="t1",
        type="TRANSFER",
        owner_id="owner",
        username="user",
        source=CollectionRef("src", "Source"),
        destination=CollectionRef("dst", "Destination"),
        request_time=T0 + 10,
        label=None,
        submission_id="s1",
        deadline=options.pop("deadline", None),  # type: ignore[arg-type]
        options=dict(options),
        source_fs=src,
        dest_fs=dst,
    )
    TransferPlanner(task, items, rules or [], rates or TaskRates(), lambda: quota).plan()
    return task


def listing(**overrides: object) -> ListRequest:
    values: dict[str, object] = {
        "filters": [],
        "orderby": None,
        "show_hidden": True,
        "limit": 100_000,
        "offset": 0,
    }
    values.update(overrides)
    return ListRequest(**values)  # type: ignore[arg-type]


# -- file system -----------------------------------------------------------------------------


def test_home_relative_paths_resolve_against_home() -> None:
    fs = make_fs()
    fs.write_file("/~/a.txt", T0, content=b"abc")
    assert fs.absolute("/~/a.txt") == "/home/u/a.txt"
    assert fs.absolute("~/x/../a.txt") == "/home/u/a.txt"
    assert fs.lookup("/home/u/a.txt").size == 3


def test_checksum_follows_content_and_survives_copy() -> None:
    fs = make_fs()
    node = fs.write_file("/~/a.txt", T0, content=b"hello")
    assert node.checksum == checksum_of(b"hello")
    assert node.copy_as("b.txt", T0).checksum == node.checksum


def test_mkdir_rename_delete_and_their_errors() -> None:
    fs = make_fs()
    fs.mkdir("/~/d", T0)
    with pytest.raises(VfsError) as exists:
        fs.mkdir("/~/d", T0)
    assert exists.value.kind == "exists"
    with pytest.raises(VfsError) as missing_parent:
        fs.mkdir("/~/no/such", T0)
    assert missing_parent.value.kind == "not_found"
    fs.write_file("/~/d/f", T0, content=b"x")
    fs.rename("/~/d", "/~/e", T0)
    assert fs.exists("/~/e/f") and not fs.exists("/~/d")
    with pytest.raises(VfsError) as not_empty:
        fs.delete("/~/e", T0, recursive=False)
    assert not_empty.value.kind == "not_empty"
    assert fs.delete("/~/e", T0, recursive=True) == 1
    assert fs.used_bytes == 0


def test_read_only_directory_denies_writes() -> None:
    fs = make_fs()
    fs.mkdir("/~/ro", T0, permissions="0555")
    with pytest.raises(VfsError) as denied:
        fs.write_file("/~/ro/f", T0, content=b"x")
    assert denied.value.kind == "permission"


def test_sorted_names_stay_sorted_after_out_of_order_inserts() -> None:
    fs = make_fs()
    for name in ("b", "c", "a", "d"):
        fs.write_file(f"/~/{name}", T0, content=b"")
    fs.rename("/~/c", "/~/0", T0)
    assert fs.directory("/~").sorted_names() == ["0", "a", "b", "d"]


# -- listing ---------------------------------------------------------------------------------


@pytest.fixture
def listed_dir() -> FileSystem:
    fs = make_fs()
    for name, size in (("a.txt", 1), ("b.dat", 20), ("c.txt", 300), (".hidden", 5)):
        fs.write_file(f"/~/{name}", T0, size=size)
    fs.mkdir("/~/sub", T0)
    return fs


def names(fs: FileSystem, **overrides: object) -> list[str]:
    page, _ = list_directory(fs.directory("/~"), listing(**overrides))
    return [node.name for node in page]


def test_listing_filters(listed_dir: FileSystem) -> None:
    assert names(listed_dir, filters=["name:~*.txt"]) == ["a.txt", "c.txt"]
    assert names(listed_dir, filters=["name:!~*.txt/type:file"]) == [".hidden", "b.dat"]
    assert names(listed_dir, filters=["type:dir"]) == ["sub"]
    assert names(listed_dir, filters=["size:>=20/type:file"]) == ["b.dat", "c.txt"]
    # Several filter parameters are alternatives.
    assert names(listed_dir, filters=["name:a.txt", "name:sub"]) == ["a.txt", "sub"]


def test_listing_hidden_order_and_paging(listed_dir: FileSystem) -> None:
    assert ".hidden" not in names(listed_dir, show_hidden=False)
    assert names(listed_dir, orderby="size DESC", filters=["type:file"])[0] == "c.txt"
    page, total = list_directory(listed_dir.directory("/~"), listing(limit=2, offset=1))
    assert [n.name for n in page] == ["a.txt", "b.dat"] and total == 5


def test_listing_rejects_bad_filters(listed_dir: FileSystem) -> None:
    with pytest.raises(ApiError) as bad:
        names(listed_dir, filters=["colour:blue"])
    assert bad.value.status == 400


# -- transfer tasks --------------------------------------------------------------------------


@pytest.fixture
def tree() -> FileSystem:
    fs = make_fs()
    for d in range(3):
        for f in range(4):
            fs.write_file(f"/~/tree/d{d}/f{f}.dat", T0, size=1000 * (f + 1), parents=True)
    fs.mkdir("/~/tree/empty", T0)
    return fs


def test_recursive_transfer_progresses_with_the_clock(tree: FileSystem) -> None:
    dst = make_fs("/home/v")
    rates = TaskRates(bytes_per_second=1000, seconds_per_file=0)
    task = transfer(tree, dst, [TransferItem("/~/tree", "/~/copy", True)], rates=rates)
    total = sum(1000 * (f + 1) for f in range(4)) * 3
    halfway = T0 + 10 + total / 1000 / 2
    task.settle(halfway)
    doc = task.document(halfway)
    assert doc["status"] == "ACTIVE" and 0 < doc["files_transferred"] < 12
    assert 0 < doc["bytes_transferred"] < total
    # Completed files are already in the destination, the rest are not.
    copied = sum(1 for _ in dst.walk_files("/~/copy"))
    assert copied == doc["files_transferred"]
    task.settle(T0 + 10 + total / 1000)
    assert task.status == "SUCCEEDED"
    assert task.document(T0 + 1e6)["bytes_transferred"] == total
    assert dst.exists("/~/copy/empty")
    assert [n.checksum for _, n in dst.walk_files("/~/copy")] == [
        n.checksum for _, n in tree.walk_files("/~/tree")
    ]


@pytest.mark.parametrize(
    ("sync_level", "change", "expected_copies"),
    [
        (0, "size", 1),  # only the missing file
        (1, "size", 2),  # + the one whose size differs
        (2, "mtime", 2),  # + the one the source has newer
        (3, "content", 2),  # + the one with other content of equal size
        (None, "none", 4),  # no sync: everything
    ],
)
def test_sync_levels(sync_level: int | None, change: str, expected_copies: int) -> None:
    src, dst = make_fs(), make_fs()
    for name in "abcd":
        src.write_file(f"/~/s/{name}", T0, content=name.encode() * 4, parents=True)
    for name in "abc":
        dst.write_file(f"/~/d/{name}", T0, content=name.encode() * 4, parents=True)
    if change == "size":
        dst.write_file("/~/d/b", T0, content=b"bb")
    elif change == "mtime":
        src.write_file("/~/s/b", T0 + 5, content=b"bbbb")
    elif change == "content":
        dst.write_file("/~/d/b", T0, content=b"xxxx")
    task = transfer(src, dst, [TransferItem("/~/s", "/~/d", True)], sync_level=sync_level)
    assert task.files_total == expected_copies
    assert task.files_skipped == 4 - expected_copies


def test_missing_source_fails_after_retry_window() -> None:
    task = transfer(make_fs(), make_fs(), [TransferItem("/~/nope", "/~/x", False)])
    task.settle(T0 + 10.5)
    doc = task.document(T0 + 10.5)
    assert doc["status"] == "ACTIVE" and doc["nice_status"] == "FILE_NOT_FOUND"
    task.settle(T0 + 10 + FAULT_RETRY_SECONDS)
    doc = task.document(T0 + 20)
    assert doc["status"] == "FAILED"
    assert doc["fatal_error"]["code"] == "FILE_NOT_FOUND"
    assert doc["nice_status"] is None


def test_skip_source_errors_records_and_continues(tree: FileSystem) -> None:
    dst = make_fs()
    items = [TransferItem("/~/nope", "/~/x", False), TransferItem("/~/tree/d0", "/~/y", True)]
    task = transfer(tree, dst, items, skip_source_errors=True)
    task.settle(T0 + 100)
    assert task.status == "SUCCEEDED"
    assert task.skipped_errors[0]["error_code"] == "FILE_NOT_FOUND"
    assert sum(1 for _ in dst.walk_files("/~/y")) == 4


def test_permission_and_quota_faults(tree: FileSystem) -> None:
    dst = make_fs()
    dst.mkdir("/~/ro", T0, permissions="0555")
    denied = transfer(tree, dst, [TransferItem("/~/tree", "/~/ro/x", True)])
    assert denied.pending_fault is not None and denied.pending_fault.code == "PERMISSION_DENIED"
    over = transfer(tree, make_fs(), [TransferItem("/~/tree", "/~/x", True)], quota=100)
    assert over.pending_fault is not None and over.pending_fault.code == "QUOTA_EXCEEDED"


def test_filter_rules_and_delete_destination_extra(tree: FileSystem) -> None:
    dst = make_fs()
    dst.write_file("/~/copy/stale.txt", T0, content=b"old", parents=True)
    rules = [FilterRule("exclude", "d1", "dir"), FilterRule("exclude", "f0.dat", "file")]
    task = transfer(
        tree,
        dst,
        [TransferItem("/~/tree", "/~/copy", True)],
        rules=rules,
        delete_destination_extra=True,
    )
    task.settle(T0 + 100)
    assert task.status == "SUCCEEDED"
    assert not dst.exists("/~/copy/d1") and not dst.exists("/~/copy/d0/f0.dat")
    assert dst.exists("/~/copy/d2/f3.dat")
    assert not dst.exists("/~/copy/stale.txt")


def test_cancel_and_deadline(tree: FileSystem) -> None:
    slow = TaskRates(bytes_per_second=1, seconds_per_file=0)
    task = transfer(tree, make_fs(), [TransferItem("/~/tree", "/~/x", True)], rates=slow)
    assert task.cancel(T0 + 11) is True
    assert task.fatal_error == {
        "code": "CANCELED",
        "description": "The task was canceled by the user",
    }
    assert task.cancel(T0 + 12) is False
    late = transfer(
        tree, make_fs(), [TransferItem("/~/tree", "/~/x", True)], rates=slow, deadline=T0 + 20
    )
    late.settle(T0 + 30)
    assert late.status == "FAILED" and late.fatal_error is not None
    assert late.fatal_error["code"] == "EXPIRED"


def _delete_task(fs: FileSystem, **options: object) -> DeleteTask:
    return DeleteTask(
        task_id="d1",
        type="DELETE",
        owner_id="owner",
        username="user",
        source=CollectionRef("c", "C"),
        destination=None,
        request_time=T0,
        label=None,
        submission_id="s",
        deadline=None,
        options=dict(options),
        fs=fs,
    )


def test_delete_task_with_globs_and_missing_paths(tree: FileSystem) -> None:
    task = _delete_task(tree, recursive=True, interpret_globs=True, ignore_missing=True)
    task.plan(["/~/tree/d*", "/~/nope"], TaskRates())
    task.settle(T0 + 100)
    assert task.status == "SUCCEEDED"
    assert tree.directory("/~/tree").sorted_names() == ["empty"]
    strict = _delete_task(tree)
    strict.plan(["/~/nope"], TaskRates())
    assert strict.pending_fault is not None and strict.pending_fault.code == "FILE_NOT_FOUND"


def test_directly_encoded_entries_match_the_documents() -> None:
    fs = make_fs()
    for name in ('quote"d', "ünï code", "back\\slash", "plain.txt"):
        fs.write_file(f"/~/{name}", T0 + 0.7, content=name.encode())
    fs.mkdir("/~/dir", T0)
    nodes = list(fs.directory("/~").children.values())
    assert json.loads(entries_json(nodes, fs)) == [entry_document(n, fs) for n in nodes]


def test_a_view_shares_tree_and_usage_with_its_own_home() -> None:
    storage = make_fs("/home/share")
    guest = storage.view("/home/share/godata", T0)
    guest.write_file("/~/f.txt", T0, content=b"1234")
    assert storage.lookup("/home/share/godata/f.txt").size == 4
    assert storage.used_bytes == guest.used_bytes == 4
    assert guest.absolute("/~/") == "/home/share/godata"


def test_encoded_entries_follow_changes_to_the_nodes() -> None:
    fs = make_fs()
    fs.write_file("/~/a", T0, content=b"1")
    directory = fs.directory("/~")
    first = json.loads(entries_json(list(directory.children.values()), fs))
    fs.rename("/~/a", "/~/b", T0 + 5)
    node = fs.lookup("/~/b")
    node.permissions = "0600"
    node.mtime = T0 + 60
    node.size = 99
    again = json.loads(entries_json(list(directory.children.values()), fs))
    assert again == [entry_document(node, fs)] != first
