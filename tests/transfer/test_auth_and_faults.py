"""Credentials, consent, isolation of events, and Globus' transient failures."""

from __future__ import annotations

import pytest
import requests

from orbit_globus.transfer import AuthenticationError, ConsentRequiredError, NotFoundError

from .simenv import GODATA, Recorder


def test_consent_required_is_a_401_with_the_scopes_in_a_field(simenv, globus):
    mapped = simenv.mapped_collection(simenv.tutorial_1)
    with pytest.raises(ConsentRequiredError) as caught:
        globus.ls(mapped, "/~/")
    error = caught.value
    assert error.status == 401 and error.code == "ConsentRequired"
    assert error.required_scopes and simenv.data_access_scope(mapped) in error.required_scopes[0]
    # the same on the wire, for clients that are not ours
    endpoint = globus.endpoint
    reply = requests.get(
        f"{endpoint.url}/globus/sessions/{globus.session_id}/ls",
        params={"collection": mapped},
        headers={"Authorization": f"Bearer {endpoint._token}"},
        timeout=10,
    )
    assert reply.status_code == 401
    assert reply.json()["required_scopes"] == error.required_scopes


def test_a_token_with_the_consent_reaches_the_mapped_collection(simenv, new_client):
    mapped = simenv.mapped_collection(simenv.tutorial_1)
    client = new_client().get_plugin("globus")
    tokens = simenv.user_tokens(simenv.data_access_scope(mapped))
    client.register_session(access_token=tokens["access_token"])
    assert client.ls_document(mapped, "/~/")["DATA_TYPE"] == "file_list"


def test_an_expired_access_token_is_a_clear_401_until_renewed(simenv, globus):
    simenv.control.expire_tokens()
    with pytest.raises(AuthenticationError) as caught:
        globus.ls(simenv.tutorial_1, GODATA)
    error = caught.value
    assert error.status == 401 and error.code == "TokenExpired"
    assert not isinstance(error, ConsentRequiredError) and error.required_scopes is None
    assert "fresh token" in error.message
    # registering again swaps the credential in the same session
    session_id = globus.session_id
    globus.register_session(access_token=simenv.user_tokens()["access_token"])
    assert globus.session_id == session_id
    assert len(globus.ls(simenv.tutorial_1, GODATA)) == 3


def _confidential_refresh(simenv):
    created = simenv.control.create_client("plugin test app")
    tokens = simenv.user_tokens(client_id=created["client_id"])
    return tokens, created["client_id"], created["client_secret"]


def _native_refresh(simenv):
    return simenv.user_tokens(), simenv.world.native_client_id, None


@pytest.mark.parametrize(
    "app", [_native_refresh, _confidential_refresh], ids=["native", "confidential"]
)
def test_a_refresh_token_renews_transparently(simenv, new_client, app):
    tokens, client_id, client_secret = app(simenv)
    assert tokens["refresh_token"]
    client = new_client().get_plugin("globus")
    client.register_session(
        refresh_token=tokens["refresh_token"], client_id=client_id, client_secret=client_secret
    )
    assert len(client.ls(simenv.tutorial_1, GODATA)) == 3
    for _ in range(2):
        assert simenv.control.expire_tokens() >= 1
        assert len(client.ls(simenv.tutorial_1, GODATA)) == 3


def test_a_revoked_refresh_token_is_a_clear_401(simenv, new_client):
    client = new_client().get_plugin("globus")
    with pytest.raises(AuthenticationError) as caught:
        client.register_session(
            refresh_token="not-a-token", client_id=simenv.world.native_client_id
        )
    assert caught.value.code == "TokenRefreshFailed"
    assert "not-a-token" not in str(caught.value)


def test_secrets_never_come_back_in_errors(simenv, new_client):
    client = new_client().get_plugin("globus")
    secret = "a-very-secret-token-value"
    client.register_session(access_token=secret)
    with pytest.raises(AuthenticationError) as caught:
        client.ls(simenv.tutorial_1)
    assert secret not in str(caught.value) and secret not in repr(caught.value.to_json())


def test_two_clients_see_only_their_own_events(simenv, new_client):
    clients, recorders, task_ids = [], [], []
    for n in range(2):
        client = new_client().get_plugin("globus")
        client.register_session(access_token=simenv.user_tokens()["access_token"])
        recorder = Recorder()
        client.on_notification(recorder)
        task_ids.append(simenv.copy(client, f"{GODATA}/file1.txt", f"/~/client-{n}.txt")["task_id"])
        clients.append(client)
        recorders.append(recorder)
    simenv.control.advance(5)
    for recorder, task_id in zip(recorders, task_ids, strict=True):
        recorder.wait_final(task_id)
    for n, recorder in enumerate(recorders):
        seen = {data["task_id"] for _, data in recorder.events if "task_id" in data}
        assert seen == {task_ids[n]}
    # nor can one read, use or close the other's session through its own connection
    alice, bob = clients
    bob_on_alice = type(bob)(bob.endpoint)
    bob_on_alice.session_id = alice.session_id
    for call in (
        lambda: bob_on_alice.get_task(task_ids[0]),
        lambda: bob_on_alice.ls(simenv.tutorial_1),
        lambda: bob_on_alice._fetch_events(0, 0.0),
        bob_on_alice.close_session,
    ):
        with pytest.raises(NotFoundError):
            call()
    assert alice.get_task(task_ids[0])["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    "spec",
    [
        "http:route=operation_ls,status=503,count=3",
        "http:route=operation_ls,status=503,count=2,retry_after=1",
        "drop:route=operation_ls,count=2",
        "http:route=*,status=500,count=2",
    ],
)
def test_transient_failures_are_survived_through_sdk_retries(simenv, globus, spec):
    fault = simenv.control.add_fault(spec)
    assert len(globus.ls(simenv.tutorial_1, GODATA)) == 3
    # the simulator drops a fault once it has failed its `count` calls
    assert fault["id"] not in {f["id"] for f in simenv.control.list_faults()}


def test_submission_and_polling_survive_faults(simenv, globus):
    simenv.control.add_fault("drop:route=submit_transfer,count=1")
    simenv.control.add_fault("http:route=task_list,status=503,count=2")
    notes = Recorder()
    globus.on_notification(notes)
    submitted = simenv.copy(globus, f"{GODATA}/file2.txt", "/~/survived.txt")
    simenv.control.advance(5)
    history = notes.wait_final(submitted["task_id"])
    assert history[-1]["status"] == "SUCCEEDED"
    # a resubmission after the dropped reply was recognised: exactly one task
    tasks = globus.list_tasks()
    assert [t["task_id"] for t in tasks].count(submitted["task_id"]) == 1
    assert len(tasks) == 1


def test_persistent_failure_is_an_upstream_error(simenv, globus):
    simenv.control.add_fault("http:route=operation_ls,status=503,count=0")
    with pytest.raises(Exception) as caught:
        globus.ls(simenv.tutorial_1, GODATA)
    assert caught.value.status == 502 and caught.value.code == "UpstreamUnavailable"


def test_expiry_during_a_transfer_is_notified_and_a_new_token_resumes(simenv, globus):
    notes = Recorder()
    globus.on_notification(notes)
    submitted = simenv.copy(globus, f"{GODATA}/file3.txt", "/~/resumed.txt")
    notes.wait_until(lambda: notes.for_task(submitted["task_id"]) != [])
    simenv.control.expire_tokens()
    notes.wait_until(lambda: any(topic == "session_error" for topic, _ in notes.events))
    error = next(data for topic, data in notes.events if topic == "session_error")
    assert error["code"] == "TokenExpired" and error["required_scopes"] is None
    globus.register_session(access_token=simenv.user_tokens()["access_token"])
    simenv.control.advance(5)
    assert notes.wait_final(submitted["task_id"])[-1]["status"] == "SUCCEEDED"
