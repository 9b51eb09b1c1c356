"""Our GlobusClient -> runtime -> broker -> endpoint -> PluginGlobus -> globus-sdk -> simulator."""

from __future__ import annotations

import uuid

import pytest

from orbit_globus.transfer import BadRequestError, NotFoundError, UpstreamError

from .conftest import NOTIFICATION_FIELDS
from .simenv import GODATA, Recorder

FILES = ["file1.txt", "file2.txt", "file3.txt"]


def finish(simenv, globus, task_id, seconds=10.0):
    """Let simulated time pass, then wait (really) for the task to end."""
    simenv.control.advance(seconds)
    assert globus.task_wait(task_id, timeout=20, polling_interval=1)["completed"]
    return globus.get_task(task_id)


def names(listing):
    return sorted(entry["name"] for entry in listing["entries"])


@pytest.fixture
def workdir(globus, simenv):
    """A fresh directory of its own on tutorial collection 2 (the session's "local")."""
    path = f"/~/{uuid.uuid4().hex[:12]}/"
    globus.mkdir("local", path)
    return path


def test_recursive_checksum_transfer_succeeds_and_is_notified(simenv, globus, workdir):
    notes = Recorder()
    globus.register_notification_callback(notes, topic="transfer_status")
    submitted = simenv.copy(
        globus,
        f"{GODATA}/",
        f"{workdir}copied/",
        recursive=True,
        label="godata copy",
        sync_level="checksum",
        verify_checksum=True,
        preserve_timestamp=True,
    )
    assert submitted["status"] == "ACTIVE" and submitted["code"] == "Accepted"
    assert submitted["submission_id"]
    task = finish(simenv, globus, submitted["task_id"])
    assert (task["status"], task["files_transferred"], task["label"]) == (
        "SUCCEEDED",
        3,
        "godata copy",
    )
    assert names(globus.ls("local", f"{workdir}copied/")) == FILES

    history = notes.wait_final(submitted["task_id"])
    assert set(history[-1]) == NOTIFICATION_FIELDS
    assert (history[-1]["status"], history[-1]["files_transferred"]) == ("SUCCEEDED", 3)
    counts = [note["files_transferred"] for note in history]
    assert counts == sorted(counts)  # in order, and nothing after the final state
    assert [note["status"] for note in history[:-1]] == ["ACTIVE"] * (len(history) - 1)


def test_a_second_checksum_sync_copies_nothing(simenv, globus, workdir):
    item = [{"source": f"{GODATA}/", "destination": f"{workdir}again/", "recursive": True}]
    first = globus.submit_transfer(simenv.tutorial_1, "local", item, sync_level="checksum")
    finish(simenv, globus, first["task_id"])
    second = globus.submit_transfer(simenv.tutorial_1, "local", item, sync_level="checksum")
    task = finish(simenv, globus, second["task_id"])
    assert (task["status"], task["files_transferred"]) == ("SUCCEEDED", 0)


def test_ls_stat_mkdir_rename_delete_with_paging(simenv, globus, workdir):
    copied = simenv.copy(globus, f"{GODATA}/", workdir, recursive=True)
    finish(simenv, globus, copied["task_id"])
    assert globus.mkdir("local", f"{workdir}made")["code"] == "DirectoryCreated"
    assert globus.rename("local", f"{workdir}made", f"{workdir}renamed")["code"] == "FileRenamed"
    assert globus.stat("local", f"{workdir}renamed")["type"] == "dir"

    files_only = globus.ls("local", workdir, filter="type:file", orderby="name DESC")
    assert [entry["name"] for entry in files_only["entries"]] == sorted(FILES, reverse=True)
    page = globus.ls("local", workdir, filter="type:file", orderby="name ASC", limit=1, offset=1)
    assert [entry["name"] for entry in page["entries"]] == ["file2.txt"]

    deleted = globus.delete("local", [f"{workdir}renamed"], recursive=True, label="tidy up")
    task = finish(simenv, globus, deleted["task_id"])
    assert (task["status"], task["type"]) == ("SUCCEEDED", "DELETE")
    globbed = globus.delete("local", [f"{workdir}file*.txt"], interpret_globs=True)
    assert finish(simenv, globus, globbed["task_id"])["status"] == "SUCCEEDED"
    assert globus.ls("local", workdir)["entries"] == []


def test_endpoint_search_paging_and_get_endpoint(simenv, globus):
    ids = [e["id"] for e in globus.endpoint_search("Tutorial Collection")["endpoints"]]
    assert simenv.tutorial_1 in ids and simenv.tutorial_2 in ids
    first = globus.endpoint_search("Tutorial Collection", limit=1)["endpoints"]
    second = globus.endpoint_search("Tutorial Collection", limit=1, offset=1)["endpoints"]
    assert len(first) == len(second) == 1 and first[0]["id"] != second[0]["id"]
    assert globus.endpoint_search("no such thing anywhere")["endpoints"] == []
    assert globus.get_endpoint("local")["id"] == simenv.tutorial_2
    with pytest.raises(NotFoundError) as caught:
        globus.get_endpoint("00000000-0000-0000-0000-000000000000")
    assert caught.value.status_code == 404


def test_list_tasks_with_filters_and_paging(simenv, globus, workdir):
    ids = [
        simenv.copy(globus, f"{GODATA}/file1.txt", f"{workdir}{n}.txt", label=f"listed {n}")[
            "task_id"
        ]
        for n in range(3)
    ]
    mine = globus.list_tasks(filter={"task_id": ids})["tasks"]
    assert sorted(task["task_id"] for task in mine) == sorted(ids)
    assert len(globus.list_tasks(limit=2, filter={"task_id": ids})["tasks"]) == 2
    assert len(globus.list_tasks(limit=10, offset=2, filter={"task_id": ids})["tasks"]) == 1
    ordered = globus.list_tasks(filter={"task_id": ids}, orderby="label ASC")["tasks"]
    assert [task["label"] for task in ordered] == ["listed 0", "listed 1", "listed 2"]


def test_missing_source_fails_and_is_notified(simenv, globus, workdir):
    notes = Recorder()
    globus.register_notification_callback(notes, topic="transfer_status")
    submitted = simenv.copy(
        globus, "/~/no-such-dir/", f"{workdir}x/", recursive=True, label="doomed"
    )
    task = finish(simenv, globus, submitted["task_id"])
    assert (task["status"], task["fatal_error"]["code"]) == ("FAILED", "FILE_NOT_FOUND")
    history = notes.wait_final(submitted["task_id"])
    assert (history[-1]["status"], history[-1]["label"]) == ("FAILED", "doomed")


def test_cancel_is_notified(simenv, globus, workdir):
    notes = Recorder()
    globus.register_notification_callback(notes, topic="transfer_status")
    submitted = simenv.copy(globus, f"{GODATA}/", f"{workdir}cancelled/", recursive=True)
    notes.wait_until(lambda: notes.for_task(submitted["task_id"]) != [])
    assert globus.cancel_task(submitted["task_id"])["code"] == "Canceled"
    assert notes.wait_final(submitted["task_id"])[-1]["status"] == "FAILED"
    assert globus.get_task(submitted["task_id"])["fatal_error"]["code"] == "CANCELED"


def test_task_wait_is_bounded(simenv, globus, workdir):
    submitted = simenv.copy(globus, f"{GODATA}/file1.txt", f"{workdir}wait.txt")
    reply = globus.task_wait(submitted["task_id"], timeout=0.3, polling_interval=0.1)
    assert reply == {"task_id": submitted["task_id"], "completed": False}
    with pytest.raises(BadRequestError):
        globus.task_wait(submitted["task_id"], timeout=0)


def test_errors_keep_globus_status_with_a_detail(simenv, globus):
    with pytest.raises(NotFoundError) as caught:
        globus.ls(simenv.tutorial_1, "/~/no/such/path/")
    assert caught.value.status_code == 404 and caught.value.message
    with pytest.raises(UpstreamError) as caught:
        globus.mkdir(simenv.tutorial_1, f"{GODATA}/file1.txt")
    # Transfer reports storage refusals as 502 ExternalError.*; the code survives
    assert caught.value.status_code == 502
    assert caught.value.code == "ExternalError.MkdirFailed.Exists"


def test_local_without_a_configured_collection_is_a_clear_error(open_globus):
    client = open_globus()
    with pytest.raises(BadRequestError) as caught:
        client.ls("local")
    assert caught.value.code == "NoLocalCollection"
