"""Credentials, consent, renewal on the virtual clock, and Globus' transient failures."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from orbit_globus.transfer import AuthenticationError, ConsentRequiredError, UpstreamError

from .conftest import their_client
from .orbit_stack import ENDPOINT
from .simenv import GODATA, Recorder

HOURS = 3600


def test_consent_required_is_a_401_with_the_scopes_in_a_field(simenv, runtime, globus):
    mapped = simenv.mapped_collection(simenv.tutorial_1)
    with pytest.raises(ConsentRequiredError) as caught:
        globus.ls(mapped, "/~/")
    error = caught.value
    assert (error.status_code, error.code) == (401, "ConsentRequired")
    assert simenv.data_access_scope(mapped) in error.required_scopes[0]
    # the same on the wire, for clients that are not ours
    body = json.dumps({"collection": mapped, "path": "/~/"}).encode()
    reply = runtime.call(ENDPOINT, "POST", f"/globus/ls/{globus.sid}", body=body)
    assert reply.status_code == 401
    assert reply.json()["required_scopes"] == error.required_scopes
    assert "consent" in reply.json()["detail"]


def test_a_token_with_the_consent_reaches_the_mapped_collection(simenv, open_globus):
    mapped = simenv.mapped_collection(simenv.tutorial_1)
    tokens = simenv.user_tokens(simenv.data_access_scope(mapped))
    client = open_globus(access_token=tokens["access_token"])
    assert client.ls(mapped, "/~/")["entries"] is not None


def test_a_missing_credential_is_a_401_until_one_is_given(simenv, runtime, open_globus):
    client = runtime.get_plugin(ENDPOINT, "globus")  # registers with no credential
    try:
        with pytest.raises(AuthenticationError) as caught:
            client.ls(simenv.tutorial_1, GODATA)
        assert (caught.value.status_code, caught.value.code) == (401, "CredentialRequired")
        assert "register_session(access_token=...)" in caught.value.message
        pending = client.sid
        client.register_session(access_token=simenv.user_tokens()["access_token"])
        assert client.sid == pending  # the same session took the credential
        assert len(client.ls(simenv.tutorial_1, GODATA)["entries"]) == 3
    finally:
        client.close()


def test_an_invalid_or_expired_access_token_is_a_clear_401(simenv, open_globus, globus):
    bogus = open_globus(access_token="a-very-secret-token-value")
    with pytest.raises(AuthenticationError) as caught:
        bogus.ls(simenv.tutorial_1, GODATA)
    assert (caught.value.status_code, caught.value.code) == (401, "TokenExpired")
    assert "a-very-secret-token-value" not in str(caught.value) + repr(caught.value.to_json())

    simenv.control.expire_tokens()
    with pytest.raises(AuthenticationError) as caught:
        globus.ls(simenv.tutorial_1, GODATA)
    assert "fresh token" in caught.value.message and caught.value.required_scopes is None
    # registering again swaps the credential in the same session
    sid = globus.sid
    globus.register_session(access_token=simenv.user_tokens()["access_token"])
    assert globus.sid == sid
    assert len(globus.ls(simenv.tutorial_1, GODATA)["entries"]) == 3


def test_their_client_sees_the_same_statuses(simenv, runtime):
    theirs = their_client(runtime)
    with pytest.raises(RuntimeError) as caught:
        theirs.register_session(
            refresh_token="not-a-token", client_id=simenv.world.native_client_id
        )
    assert caught.value.status_code == 401 and "not-a-token" not in str(caught.value)
    theirs.register_session(access_token=simenv.user_tokens()["access_token"])
    with pytest.raises(RuntimeError) as caught:
        theirs.ls(simenv.tutorial_1, "/~/no/such/dir/")
    assert caught.value.status_code == 404
    theirs.close()


def _native(simenv):
    return simenv.user_tokens(), simenv.world.native_client_id, None


def _confidential(simenv):
    created = simenv.control.create_client("plugin test app")
    tokens = simenv.user_tokens(client_id=created["client_id"])
    return tokens, created["client_id"], created["client_secret"]


@pytest.mark.parametrize("app", [_native, _confidential], ids=["native", "confidential"])
def test_a_refresh_token_renews_when_the_token_is_revoked(simenv, open_globus, app):
    tokens, client_id, client_secret = app(simenv)
    client = open_globus(
        refresh_token=tokens["refresh_token"], client_id=client_id, client_secret=client_secret
    )
    for _ in range(3):
        assert len(client.ls(simenv.tutorial_1, GODATA)["entries"]) == 3
        assert simenv.control.expire_tokens() >= 1


def test_a_refresh_token_outlives_its_access_token_during_a_long_transfer(simenv, open_globus):
    """Virtual clock: the transfer takes 72 h; access tokens live 48 h."""
    saved = simenv.control.get_rates()
    simenv.control.set_rates(seconds_per_file=72 * HOURS)
    try:
        tokens = simenv.user_tokens()
        renewing = open_globus(
            refresh_token=tokens["refresh_token"], client_id=simenv.world.native_client_id
        )
        plain = open_globus(access_token=simenv.user_tokens()["access_token"])
        notes, errors = Recorder(), Recorder()
        renewing.register_notification_callback(notes, topic="transfer_status")
        renewing.register_notification_callback(errors, topic="session_error")
        destination = f"/~/long-{uuid.uuid4().hex[:8]}.txt"
        # Globus' default deadline is a day; this one outlives the transfer
        deadline = datetime.fromtimestamp(simenv.control.now() + 96 * HOURS, UTC).isoformat()
        task_id = simenv.copy(renewing, f"{GODATA}/file1.txt", destination, deadline=deadline)[
            "task_id"
        ]
        notes.wait_until(lambda: notes.for_task(task_id) != [])

        simenv.control.advance(50 * HOURS)  # every access token issued so far has expired
        with pytest.raises(AuthenticationError):
            plain.ls(simenv.tutorial_1, GODATA)
        assert renewing.get_task(task_id)["status"] == "ACTIVE"

        simenv.control.advance(30 * HOURS)
        assert notes.wait_final(task_id)[-1]["status"] == "SUCCEEDED"
        assert errors.events == []
    finally:
        simenv.control.set_rates(**saved)


@pytest.fixture
def faults(simenv):
    yield simenv.control
    simenv.control.clear_faults()


@pytest.mark.parametrize(
    "spec",
    ["http:route=operation_ls,status=503,count=3", "drop:route=operation_ls,count=2"],
)
def test_transient_failures_are_survived_through_sdk_retries(simenv, globus, faults, spec):
    fault = faults.add_fault(spec)
    assert len(globus.ls(simenv.tutorial_1, GODATA)["entries"]) == 3
    assert fault["id"] not in {f["id"] for f in faults.list_faults()}


def test_persistent_failure_is_an_upstream_error(simenv, globus, faults):
    faults.add_fault("http:route=operation_ls,status=503,count=0")
    with pytest.raises(UpstreamError) as caught:
        globus.ls(simenv.tutorial_1, GODATA)
    assert (caught.value.status_code, caught.value.code) == (502, "UpstreamUnavailable")


def test_expiry_during_a_transfer_is_notified_and_a_new_token_resumes(simenv, globus):
    notes = Recorder()
    globus.register_notification_callback(notes)
    submitted = simenv.copy(globus, f"{GODATA}/file3.txt", f"/~/resumed-{globus.sid}.txt")
    notes.wait_until(lambda: notes.for_task(submitted["task_id"]) != [])
    simenv.control.expire_tokens()
    notes.wait_until(lambda: any(topic == "session_error" for topic, _ in notes.events))
    error = next(data for topic, data in notes.events if topic == "session_error")
    assert (error["code"], error["status_code"], error["sid"]) == ("TokenExpired", 401, globus.sid)
    globus.register_session(access_token=simenv.user_tokens()["access_token"])
    simenv.control.advance(5)
    assert notes.wait_final(submitted["task_id"])[-1]["status"] == "SUCCEEDED"
