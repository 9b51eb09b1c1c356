"""Two runtimes (two radical.orbit participants) never reach each other's sessions, tasks or
notifications."""

from __future__ import annotations

import time

import pytest

from orbit_globus.transfer import NotFoundError

from .conftest import their_client
from .orbit_stack import ENDPOINT
from .simenv import GODATA, Recorder


def test_two_runtimes_see_only_their_own_tasks_and_notifications(simenv, new_runtime, open_globus):
    runtimes = [new_runtime(), new_runtime()]
    clients = [open_globus(rt) for rt in runtimes]
    recorders = [Recorder(), Recorder()]
    for client, recorder in zip(clients, recorders, strict=True):
        client.register_notification_callback(recorder, topic="transfer_status")
    task_ids = [
        simenv.copy(client, f"{GODATA}/file1.txt", f"/~/isolation-{n}-{client.sid}.txt")["task_id"]
        for n, client in enumerate(clients)
    ]
    simenv.control.advance(5)
    for recorder, task_id in zip(recorders, task_ids, strict=True):
        assert recorder.wait_final(task_id)[-1]["status"] == "SUCCEEDED"
    for recorder, task_id in zip(recorders, task_ids, strict=True):
        assert {data["task_id"] for _topic, data in recorder.events} == {task_id}

    # the other participant cannot use, read or close a session, even knowing its sid
    alice, bob_runtime = clients[0], runtimes[1]
    mallory = their_client(bob_runtime)
    mallory._sid = alice.sid
    for call in (
        lambda: mallory.get_task(task_ids[0]),
        lambda: mallory.ls(simenv.tutorial_1, GODATA),
        lambda: mallory.list_tasks(),
        lambda: mallory.unregister_session(),
    ):
        with pytest.raises(RuntimeError) as caught:
            call()
        assert caught.value.status_code == 404
    assert alice.get_task(task_ids[0])["status"] == "SUCCEEDED"


def test_a_foreign_session_answers_like_a_missing_one(new_runtime, open_globus):
    alice = open_globus(new_runtime())
    answers = []
    for sid in (alice.sid, "session.0000"):
        mallory = their_client(new_runtime())
        mallory._sid = sid
        with pytest.raises(RuntimeError) as caught:
            mallory.list_tasks()
        answers.append((caught.value.status_code, str(caught.value).replace(sid, "SID")))
    assert answers[0] == answers[1]


def test_sessions_follow_radical_orbits_lifetime_policy(simenv, runtime):
    token = simenv.user_tokens()["access_token"]
    client = runtime.get_plugin(ENDPOINT, "globus", access_token=token, lifetime="ttl", ttl=0.5)
    time.sleep(1.0)  # idle past its ttl
    # radical.orbit answers 410 when a call finds its session expired, and 404 once its
    # 5-second sweep (whose phase this session-scoped endpoint does not let us choose) has
    # dropped it first; either way the session is gone for good.
    answers = []
    for _ in range(2):
        with pytest.raises(NotFoundError) as caught:
            client.ls(simenv.tutorial_1, GODATA)
        answers.append((caught.value.status_code, caught.value.code))
    assert answers[0] in {(410, "SessionExpired"), (404, "SessionNotFound")}
    assert answers[1] == (404, "SessionNotFound")
