"""GlobusClient -> HTTP on loopback -> Plugin -> GlobusSession -> globus-sdk -> simulator."""

from __future__ import annotations

import pytest

from orbit_globus.transfer import BadRequestError, NotFoundError, UpstreamError

from .conftest import NOTIFICATION_FIELDS
from .simenv import GODATA, Recorder

FILES = ["file1.txt", "file2.txt", "file3.txt"]


def finish(simenv, globus, task_id, seconds=10.0):
    """Let simulated time pass, then wait (really) for the task to end."""
    simenv.control.advance(seconds)
    assert globus.task_wait(task_id, timeout=20, polling_interval=0.1)
    return globus.get_task(task_id)


def tree(simenv, collection_id, path):
    fs = simenv.sim.transfer.data.collections[collection_id].fs
    return {
        name.rsplit("/", 1)[-1]: (node.size, node.checksum) for name, node in fs.walk_files(path)
    }


def test_recursive_checksum_transfer_succeeds_with_matching_files(simenv, globus):
    notes = Recorder()
    globus.on_notification(notes)
    submitted = simenv.copy(
        globus,
        f"{GODATA}/",
        "/~/copied/",
        recursive=True,
        label="godata copy",
        sync_level="checksum",
        verify_checksum=True,
        preserve_timestamp=True,
    )
    assert submitted["status"] == "Accepted"
    assert submitted["submission_id"]
    task = finish(simenv, globus, submitted["task_id"])
    assert task["status"] == "SUCCEEDED"
    assert task["files_transferred"] == len(FILES)
    assert task["label"] == "godata copy"
    listed = sorted(entry["name"] for entry in globus.ls(simenv.tutorial_2, "/~/copied/"))
    assert listed == FILES
    assert tree(simenv, simenv.tutorial_2, f"{GODATA}/copied") == tree(
        simenv, simenv.tutorial_1, GODATA
    )

    history = notes.wait_final(submitted["task_id"])
    assert history[-1]["status"] == "SUCCEEDED"
    assert history[-1]["files_transferred"] == len(FILES)
    assert history[-1]["label"] == "godata copy"
    assert set(history[-1]) == NOTIFICATION_FIELDS
    # in order: progress never goes backwards and nothing follows the final state
    counts = [note["files_transferred"] for note in history]
    assert counts == sorted(counts)
    assert [note["status"] for note in history[:-1]] == ["ACTIVE"] * (len(history) - 1)


def test_a_second_checksum_sync_copies_nothing(simenv, globus):
    item = [{"source": f"{GODATA}/", "destination": "/~/again/", "recursive": True}]
    first = globus.submit_transfer(
        simenv.tutorial_1, simenv.tutorial_2, item, sync_level="checksum"
    )
    finish(simenv, globus, first["task_id"])
    second = globus.submit_transfer(
        simenv.tutorial_1, simenv.tutorial_2, item, sync_level="checksum"
    )
    task = finish(simenv, globus, second["task_id"])
    assert task["status"] == "SUCCEEDED"
    assert task["files_transferred"] == 0


def test_notifications_iterate_in_order(simenv, globus):
    submitted = globus.submit_transfer(
        simenv.tutorial_1,
        "local",  # the session's local collection (tutorial 2)
        [{"source": f"{GODATA}/file1.txt", "destination": "/~/one.txt"}],
    )
    simenv.control.advance(5)
    seen = []
    for note in globus.notifications(timeout=20):
        assert note.topic == "transfer_status"
        seen.append(note)
        if note.data["status"] == "SUCCEEDED":
            break
    assert [note.seq for note in seen] == sorted(note.seq for note in seen)
    assert seen[-1].data["task_id"] == submitted["task_id"]


def test_ls_mkdir_rename_delete(simenv, globus):
    target = simenv.tutorial_2
    assert globus.mkdir(target, "/~/made")["code"] == "DirectoryCreated"
    assert globus.rename(target, "/~/made", "/~/renamed")["code"] == "FileRenamed"
    names = {entry["name"] for entry in globus.ls(target, "/~/")}
    assert "renamed" in names and "made" not in names
    assert globus.stat(target, "/~/renamed")["type"] == "dir"

    files_only = globus.ls(target, "/~/", filter="type:file", orderby="name DESC")
    assert [entry["name"] for entry in files_only] == sorted(FILES, reverse=True)
    page = globus.ls_document(target, "/~/", filter={"type": "file"}, limit=1, offset=1)
    assert [entry["name"] for entry in page["DATA"]] == ["file2.txt"]

    deleted = globus.delete(target, ["/~/renamed"], recursive=True, label="tidy up")
    task = finish(simenv, globus, deleted["task_id"])
    assert task["status"] == "SUCCEEDED" and task["type"] == "DELETE"
    assert "renamed" not in {entry["name"] for entry in globus.ls(target, "/~/")}


def test_delete_options_reach_globus(simenv, globus):
    ignored = globus.delete("local", "/~/never-existed", ignore_missing=True)
    assert finish(simenv, globus, ignored["task_id"])["status"] == "SUCCEEDED"
    globbed = globus.delete("local", ["/~/file*.txt"], interpret_globs=True)
    assert finish(simenv, globus, globbed["task_id"])["status"] == "SUCCEEDED"
    assert globus.ls("local", "/~/") == []


def test_mkdir_on_an_existing_path_is_a_machine_readable_error(simenv, globus):
    with pytest.raises(UpstreamError) as caught:
        globus.mkdir(simenv.tutorial_2, "/~/file1.txt")
    # Transfer reports storage refusals as 502 ExternalError.*; the code survives
    assert caught.value.status == 502
    assert caught.value.code == "ExternalError.MkdirFailed.Exists"
    assert "already exists" in caught.value.message


def test_endpoint_search_and_get_endpoint(simenv, globus):
    found = globus.endpoint_search("Tutorial Collection")
    ids = [endpoint["id"] for endpoint in found]
    assert simenv.tutorial_1 in ids and simenv.tutorial_2 in ids
    first = globus.endpoint_search("Tutorial Collection", limit=1)
    second = globus.endpoint_search("Tutorial Collection", limit=1, offset=1)
    assert len(first) == len(second) == 1 and first[0]["id"] != second[0]["id"]
    assert globus.endpoint_search("no such thing anywhere") == []
    endpoint = globus.get_endpoint(simenv.tutorial_1)
    assert endpoint["display_name"] == "Globus Tutorial Collection 1"
    assert globus.get_endpoint("local")["id"] == simenv.tutorial_2
    with pytest.raises(NotFoundError):
        globus.get_endpoint("00000000-0000-0000-0000-000000000000")


def test_list_tasks_with_filters_and_paging(simenv, globus):
    ids = []
    for n in range(3):
        ids.append(
            simenv.copy(globus, f"{GODATA}/file1.txt", f"/~/list-{n}.txt", label=f"listed {n}")[
                "task_id"
            ]
        )
    mine = globus.list_tasks(filter={"task_id": ids})
    assert sorted(task["task_id"] for task in mine) == sorted(ids)
    assert len(globus.list_tasks(limit=2, filter={"task_id": ids})) == 2
    assert len(globus.list_tasks(limit=10, offset=2, filter={"task_id": ids})) == 1
    oldest = globus.list_tasks(filter={"task_id": ids}, orderby="label ASC")
    assert [task["label"] for task in oldest] == ["listed 0", "listed 1", "listed 2"]
    finish(simenv, globus, ids[-1])
    done = globus.list_tasks(filter={"task_id": ids, "status": "SUCCEEDED"})
    assert {task["task_id"] for task in done} == set(ids)


def test_missing_source_fails_and_is_notified(simenv, globus):
    notes = Recorder()
    globus.on_notification(notes)
    submitted = simenv.copy(globus, "/~/no-such-dir/", "/~/x/", recursive=True, label="doomed")
    task = finish(simenv, globus, submitted["task_id"])
    assert task["status"] == "FAILED"
    assert task["fatal_error"]["code"] == "FILE_NOT_FOUND"
    history = notes.wait_final(submitted["task_id"])
    assert history[-1]["status"] == "FAILED"
    assert history[-1]["label"] == "doomed"


def test_cancel_is_notified(simenv, globus):
    notes = Recorder()
    globus.on_notification(notes)
    submitted = simenv.copy(globus, f"{GODATA}/", "/~/cancelled/", recursive=True)
    # the virtual clock stands still, so the task is still ACTIVE when cancelled
    notes.wait_until(lambda: notes.for_task(submitted["task_id"]) != [])
    assert globus.cancel_task(submitted["task_id"])["code"] == "Canceled"
    history = notes.wait_final(submitted["task_id"])
    assert history[-1]["status"] == "FAILED"
    assert globus.get_task(submitted["task_id"])["fatal_error"]["code"] == "CANCELED"


def test_task_wait_is_bounded_and_cancellable(simenv, globus):
    import threading

    submitted = simenv.copy(globus, f"{GODATA}/file1.txt", "/~/wait.txt")
    assert globus.task_wait(submitted["task_id"], timeout=0.3, polling_interval=0.1) is False
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert (
        globus.task_wait(submitted["task_id"], timeout=60, polling_interval=30, cancel=stop)
        is False
    )
    with pytest.raises(BadRequestError):
        globus.task_wait(submitted["task_id"], timeout=0)


def test_local_without_a_configured_collection_is_a_clear_error(simenv, new_client):
    client = new_client().get_plugin("globus")
    client.register_session(access_token=simenv.user_tokens()["access_token"])
    with pytest.raises(BadRequestError) as caught:
        client.ls("local")
    assert caught.value.code == "NoLocalCollection"


def test_bad_items_are_refused_before_globus(simenv, globus):
    with pytest.raises(BadRequestError):
        globus.submit_transfer(simenv.tutorial_1, simenv.tutorial_2, [{"source": "/a"}])
    with pytest.raises(BadRequestError):
        globus.submit_transfer(simenv.tutorial_1, simenv.tutorial_2, [])
