"""radical.orbit's own GlobusClient (theirs, unchanged) drives our plugin over the real broker."""

from __future__ import annotations

import pytest

from .conftest import NOTIFICATION_FIELDS, their_client
from .orbit_stack import ENDPOINT
from .simenv import GODATA, Recorder

FILES = ["file1.txt", "file2.txt", "file3.txt"]


def test_their_client_runs_a_whole_transfer(runtime, simenv):
    theirs = their_client(runtime)
    theirs.register_session(access_token=simenv.user_tokens()["access_token"])
    notes = Recorder()
    theirs.register_notification_callback(notes, topic="transfer_status")
    try:
        found = theirs.endpoint_search("Tutorial Collection")["endpoints"]
        assert {simenv.tutorial_1, simenv.tutorial_2} <= {e["id"] for e in found}
        # documented defaults (no filter text): useful results, not a 400
        assert theirs.endpoint_search()["endpoints"]
        assert theirs.get_endpoint(simenv.tutorial_1)["display_name"].startswith("Globus Tutorial")

        theirs.mkdir(simenv.tutorial_2, "/~/theirs/")
        submitted = theirs.submit_transfer(
            simenv.tutorial_1,
            simenv.tutorial_2,
            [{"source": f"{GODATA}/", "destination": "/~/theirs/copy/", "recursive": True}],
            label="their client",
        )
        assert set(submitted) >= {"task_id", "submission_id", "status"}
        task_id = submitted["task_id"]
        simenv.control.advance(10)
        assert theirs.task_wait(task_id, timeout=20, polling_interval=1) == {
            "task_id": task_id,
            "completed": True,
        }
        task = theirs.get_task(task_id)
        assert (task["status"], task["files_transferred"]) == ("SUCCEEDED", 3)
        history = notes.wait_final(task_id)
        assert set(history[-1]) == NOTIFICATION_FIELDS
        assert history[-1]["status"] == "SUCCEEDED" and history[-1]["label"] == "their client"

        listing = theirs.ls(simenv.tutorial_2, "/~/theirs/copy/")
        assert listing["collection"] == simenv.tutorial_2
        assert sorted(entry["name"] for entry in listing["entries"]) == FILES
        assert task_id in [t["task_id"] for t in theirs.list_tasks(limit=50)["tasks"]]

        theirs.rename(simenv.tutorial_2, "/~/theirs/copy/file1.txt", "/~/theirs/copy/one.txt")
        deleted = theirs.delete(simenv.tutorial_2, ["/~/theirs/copy/file2.txt"])
        simenv.control.advance(5)
        assert theirs.task_wait(deleted["task_id"], timeout=20, polling_interval=1)["completed"]
        names = {e["name"] for e in theirs.ls(simenv.tutorial_2, "/~/theirs/copy/")["entries"]}
        assert names == {"one.txt", "file3.txt"}

        # a task still running (the virtual clock stands still) can be cancelled
        running = theirs.submit_transfer(
            simenv.tutorial_1,
            simenv.tutorial_2,
            [{"source": f"{GODATA}/file3.txt", "destination": "/~/theirs/cancelled.txt"}],
        )
        assert theirs.cancel_task(running["task_id"])["code"] == "Canceled"
        assert theirs.get_task(running["task_id"])["status"] == "FAILED"
    finally:
        theirs.close()
    assert theirs.sid is None


def test_their_get_plugin_call_shape_registers_then_takes_the_credential(runtime, simenv):
    """The example's shape: get_plugin registers without a credential, then register_session."""
    client = their_client(runtime)
    client.register_session()  # what get_plugin(ep, "globus") does
    pending = client.sid
    with pytest.raises(RuntimeError) as caught:
        client.ls(simenv.tutorial_1, GODATA)
    assert caught.value.status_code == 401
    assert "no Globus credential yet" in str(caught.value)
    client.register_session(access_token=simenv.user_tokens()["access_token"])
    assert client.sid != pending
    assert len(client.ls(simenv.tutorial_1, GODATA)["entries"]) == 3
    client.close()


def test_the_endpoint_log_says_ours_replaced_the_built_in_plugin(orbit, runtime):
    assert runtime.topology()[ENDPOINT]["plugins"]["globus"]
    log = orbit.endpoint_log.read_text()
    assert "orbit-globus" in log and "in place of radical.orbit's built-in plugin" in log
