"""Transfer and delete tasks through an unmodified TransferClient, on a virtual clock."""

from __future__ import annotations

import globus_sdk
import pytest
from globus_sdk.paging import LimitOffsetTotalPaginator

import orbit_sim
from orbit_sim.inprocess import mock_globus
from tests.sim.transfer_data.conftest import ClockPump, Harness

MB = 1024 * 1024


def seed_tree(harness: Harness, collection_id: str, top: str = "/~/tree") -> int:
    """A small nested tree; returns its file count."""
    fs = harness.collection(collection_id).fs
    now = harness.sim.clock.now()
    count = 0
    for d in ("a", "a/b", "c"):
        for f in range(3):
            fs.write_file(f"{top}/{d}/f{f}.txt", now, content=f"{d}/{f}\n".encode(), parents=True)
            count += 1
    fs.write_file(f"{top}/.hidden", now, content=b"dot", parents=True)
    return count + 1


def submit(
    tc: globus_sdk.TransferClient,
    source: str,
    destination: str,
    items: list[tuple[str, str, bool]],
    **options: object,
) -> str:
    tdata = globus_sdk.TransferData(source, destination, **options)  # type: ignore[arg-type]
    for src, dst, recursive in items:
        tdata.add_item(src, dst, recursive=recursive)
    result = tc.submit_transfer(tdata)
    assert result["code"] == "Accepted"
    return str(result["task_id"])


def tree_checksums(harness: Harness, collection_id: str, top: str) -> dict[str, str]:
    fs = harness.collection(collection_id).fs
    return {f"{rel}/{node.name}": node.checksum for rel, node in fs.walk_files(top)}


def test_recursive_transfer_with_sync_level_succeeds(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    files = seed_tree(harness, c1)
    # The destination already holds two files: one identical, one with other content.
    dest = harness.collection(c2).fs
    now = harness.sim.clock.now()
    dest.write_file("/~/copy/a/f0.txt", now, content=b"a/0\n", parents=True)
    dest.write_file("/~/copy/a/f1.txt", now, content=b"X/1\n")
    task_id = submit(tc, c1, c2, [("/~/tree/", "/~/copy/", True)], sync_level="checksum")
    harness.sim.advance(60)
    task = tc.get_task(task_id)
    assert task["status"] == "SUCCEEDED"
    assert task["files_skipped"] == 1
    assert task["files_transferred"] == files - 1
    assert task["sync_level"] == 3
    assert tree_checksums(harness, c2, "/~/copy") == tree_checksums(harness, c1, "/~/tree")
    listed = [e["name"] for e in tc.operation_ls(c2, path="/~/copy/a/")]
    assert listed == ["b", "f0.txt", "f1.txt", "f2.txt"]


def test_progress_follows_the_virtual_clock(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    fs = harness.collection(c1).fs
    for index in range(4):
        fs.write_file(f"/~/big/part{index}", harness.sim.clock.now(), size=100 * MB, parents=True)
    harness.data.rates.bytes_per_second = 100 * MB
    harness.data.rates.seconds_per_file = 0.0
    task_id = submit(tc, c1, c2, [("/~/big", "/~/big", True)])
    assert tc.get_task(task_id)["bytes_transferred"] == 0
    harness.sim.advance(1.5)
    task = tc.get_task(task_id)
    assert task["status"] == "ACTIVE" and task["nice_status"] == "OK"
    assert task["files_transferred"] == 1
    assert task["bytes_transferred"] == 150 * MB
    # Only the completed file is in the destination so far.
    assert [e["name"] for e in tc.operation_ls(c2, path="/~/big")] == ["part0"]
    harness.sim.advance(10)
    task = tc.get_task(task_id)
    assert task["status"] == "SUCCEEDED" and task["bytes_transferred"] == 400 * MB
    assert task["completion_time"] is not None


def test_task_wait_with_a_pumped_clock(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    harness.collection(c1).fs.write_file("/~/large.bin", harness.sim.clock.now(), size=1000 * MB)
    harness.data.rates.bytes_per_second = 10 * MB  # 100 s of simulated time
    task_id = submit(tc, c1, c2, [("/~/large.bin", "/~/large.bin", False)])
    assert tc.task_wait(task_id, timeout=1, polling_interval=1) is False
    with ClockPump(harness.sim, step=20.0, every=0.02):
        assert tc.task_wait(task_id, timeout=60, polling_interval=1) is True
    assert tc.get_task(task_id)["status"] == "SUCCEEDED"


def test_cancel(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    harness.data.rates.bytes_per_second = 1.0
    task_id = submit(tc, c1, c2, [("/~/", "/~/slow/", True)])
    harness.sim.advance(1)
    assert tc.cancel_task(task_id)["code"] == "Canceled"
    task = tc.get_task(task_id)
    assert task["status"] == "FAILED"
    assert task["fatal_error"]["code"] == "CANCELED"
    assert tc.cancel_task(task_id)["code"] == "TaskComplete"
    harness.sim.advance(100)
    assert tc.get_task(task_id)["files_transferred"] == task["files_transferred"]


def test_missing_source_fails_with_fatal_error(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    task_id = submit(
        tc, harness.collection_1, harness.collection_2, [("/~/nope.txt", "/~/x", False)]
    )
    task = tc.get_task(task_id)
    assert task["status"] == "ACTIVE"
    assert task["nice_status"] == "FILE_NOT_FOUND"
    harness.sim.advance(30)
    task = tc.get_task(task_id)
    assert task["status"] == "FAILED"
    assert task["fatal_error"]["code"] == "FILE_NOT_FOUND"
    assert "nope.txt" in task["fatal_error"]["description"]
    assert tc.task_pause_info(task_id)["pause_rules"] == []
    events = tc.task_event_list(task_id)
    assert any(event["code"] == "FILE_NOT_FOUND" and event["is_error"] for event in events)


def test_quota_exceeded_retries_until_space_frees_or_fails_when_told(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    destination = harness.collection(c2)
    destination.quota_bytes = destination.fs.used_bytes + 5
    patient = submit(tc, c1, c2, [("/~/", "/~/q/", True)])
    strict = submit(tc, c1, c2, [("/~/", "/~/q2/", True)], fail_on_quota_errors=True)
    harness.sim.advance(30)
    task = tc.get_task(patient)
    assert (task["status"], task["nice_status"]) == ("ACTIVE", "QUOTA_EXCEEDED")
    failed = tc.get_task(strict)
    assert failed["status"] == "FAILED" and failed["fatal_error"]["code"] == "QUOTA_EXCEEDED"
    destination.quota_bytes = None  # space freed: the retried task goes on
    harness.sim.advance(30)
    assert tc.get_task(patient)["status"] == "SUCCEEDED"
    assert [e["name"] for e in tc.operation_ls(c2, path="/~/q/")] == [
        "file1.txt",
        "file2.txt",
        "file3.txt",
    ]


def test_task_list_paginated_with_status_filter(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    good = [
        submit(tc, c1, c2, [("/~/file1.txt", f"/~/ok{index}.txt", False)], label=f"ok {index}")
        for index in range(12)
    ]
    bad = [submit(tc, c1, c2, [("/~/missing", f"/~/bad{i}", False)]) for i in range(5)]
    harness.sim.advance(30)

    failed = [task["task_id"] for task in tc.paginated.task_list(filter="status:FAILED").items()]
    assert sorted(failed) == sorted(bad)
    # The SDK's own paginator class, walking pages of 5.
    paginator = LimitOffsetTotalPaginator(
        tc.task_list,
        items_key="DATA",
        get_page_size=lambda page: len(page["DATA"]),
        max_total_results=1000,
        page_size=5,
        client_args=(),
        client_kwargs={"filter": {"status": ["SUCCEEDED"]}},
    )
    pages = list(paginator.pages())
    assert [len(page["DATA"]) for page in pages] == [5, 5, 2]
    assert sorted(t["task_id"] for page in pages for t in page["DATA"]) == sorted(good)
    newest_first = [t["task_id"] for t in tc.task_list(limit=3)]
    assert newest_first == [bad[4], bad[3], bad[2]]
    oldest_first = [t["task_id"] for t in tc.task_list(limit=2, orderby="request_time ASC")]
    assert oldest_first == good[:2]
    labelled = tc.task_list(filter="label:ok 3/type:TRANSFER")
    assert [t["task_id"] for t in labelled] == [good[3]]
    by_id = tc.task_list(filter={"task_id": [good[0], bad[0]]})
    assert {t["task_id"] for t in by_id} == {good[0], bad[0]}


def test_delete_task(harness: Harness, tc: globus_sdk.TransferClient) -> None:
    c1 = harness.collection_1
    seed_tree(harness, c1)
    ddata = globus_sdk.DeleteData(c1, recursive=True, label="cleanup")
    ddata.add_item("/~/tree/a")
    ddata.add_item("/~/file*.txt")
    ddata["interpret_globs"] = True
    task_id = tc.submit_delete(ddata)["task_id"]
    harness.sim.advance(10)
    task = tc.get_task(task_id)
    assert (task["status"], task["type"], task["label"]) == ("SUCCEEDED", "DELETE", "cleanup")
    assert [e["name"] for e in tc.operation_ls(c1, path="/~/")] == ["tree"]
    assert [e["name"] for e in tc.operation_ls(c1, path="/~/tree")] == [".hidden", "c"]


def test_resubmitting_a_submission_id_is_idempotent(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    tdata = globus_sdk.TransferData(harness.collection_1, harness.collection_2)
    tdata.add_item("/~/file1.txt", "/~/once.txt")
    first = tc.submit_transfer(tdata)
    again = tc.submit_transfer(tdata)
    assert again["task_id"] == first["task_id"] and again["code"] == "Duplicate"


def test_tasks_are_isolated_between_identities(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    task_id = submit(tc, harness.collection_1, harness.collection_2, [("/~/", "/~/mine/", True)])
    other = harness.other_identity_client()
    for call in (other.get_task, other.cancel_task, other.task_event_list):
        with pytest.raises(globus_sdk.TransferAPIError) as denied:
            call(task_id)
        assert denied.value.http_status == 403
    assert other.task_list()["total"] == 0
    assert tc.task_list()["total"] == 1
    with pytest.raises(globus_sdk.TransferAPIError) as unknown:
        tc.get_task("00000000-0000-0000-0000-000000000000")
    assert unknown.value.http_status == 404


def test_read_only_destination_fails_with_permission_denied(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c2 = harness.collection_2
    harness.collection(c2).fs.mkdir("/~/locked", harness.sim.clock.now(), permissions="0555")
    task_id = submit(tc, harness.collection_1, c2, [("/~/", "/~/locked/in/", True)])
    harness.sim.advance(30)
    task = tc.get_task(task_id)
    assert task["status"] == "FAILED"
    assert task["fatal_error"]["code"] == "PERMISSION_DENIED"


def test_update_task_and_successful_transfers_paging(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    c1, c2 = harness.collection_1, harness.collection_2
    fs = harness.collection(c1).fs
    for index in range(2500):
        fs.write_file(f"/~/many/f{index:04}", harness.sim.clock.now(), size=1, parents=True)
    task_id = submit(tc, c1, c2, [("/~/many", "/~/many", True)], label="before")
    assert tc.update_task(task_id, {"label": "after"})["code"] == "Updated"
    assert tc.get_task(task_id)["label"] == "after"
    harness.sim.advance(600)
    with pytest.raises(globus_sdk.TransferAPIError) as done:
        tc.update_task(task_id, {"label": "too late"})
    assert done.value.http_status == 409
    transfers = list(tc.paginated.task_successful_transfers(task_id).items())
    assert len(transfers) == 2500
    assert transfers[-1]["destination_path"] == "/home/share/godata/many/f2499"


def test_task_wait_on_a_real_clock() -> None:
    sim = orbit_sim.Simulator(clock="real")
    try:
        with mock_globus(sim):
            harness = Harness(sim, "inprocess")
            tc = harness.transfer_client()
            task_id = submit(
                tc, harness.collection_1, harness.collection_2, [("/~/", "/~/r/", True)]
            )
            assert tc.task_wait(task_id, timeout=10, polling_interval=1) is True
            assert tc.get_task(task_id)["status"] == "SUCCEEDED"
    finally:
        sim.close()


def test_a_large_recursive_transfer_runs_to_succeeded(inprocess: Harness) -> None:
    c1, c2 = inprocess.collection_1, inprocess.collection_2
    fs = inprocess.collection(c1).fs
    now = inprocess.sim.clock.now()
    for index in range(20_000):
        fs.write_file(
            f"/~/vol/d{index // 500:03}/f{index % 500:03}",
            now,
            size=index % 4096 + 1,
            parents=index % 500 == 0,
        )
    tc = inprocess.transfer_client()
    task_id = submit(tc, c1, c2, [("/~/vol/", "/~/vol/", True)])
    inprocess.sim.advance(3600)
    task = tc.get_task(task_id)
    assert (task["status"], task["files_transferred"], task["directories"]) == (
        "SUCCEEDED",
        20_000,
        41,
    )
    dest = inprocess.collection(c2).fs
    assert dest.used_bytes - 12 == sum(index % 4096 + 1 for index in range(20_000))
