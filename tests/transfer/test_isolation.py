"""A session is usable only by the client that registered it."""

from __future__ import annotations

import pytest
import requests

from orbit_globus.transfer import GlobusClient, NotFoundError, PluginError
from orbit_globus.transfer.errors import ClientAuthError

SESSION_ROUTES = [
    ("GET", "/tasks"),
    ("GET", "/tasks/some-task"),
    ("POST", "/tasks/some-task/cancel"),
    ("GET", "/ls"),
    ("GET", "/events"),
    ("POST", "/credential"),
    ("DELETE", ""),
]


def _register(client) -> GlobusClient:
    globus = client.get_plugin("globus")
    # An access token alone is not checked until the first Globus call.
    globus.register_session(access_token="not-checked-yet", local_collection="c0ffee")
    return globus


@pytest.mark.parametrize(("method", "suffix"), SESSION_ROUTES)
def test_another_client_cannot_reach_a_session(new_client, method, suffix):
    alice, mallory = new_client(), new_client()
    session_id = _register(alice).session_id
    _register(mallory)
    with pytest.raises(NotFoundError) as caught:
        mallory.request(method, f"/globus/sessions/{session_id}{suffix}", json={}, timeout=5)
    assert caught.value.code == "SessionNotFound"


def test_a_foreign_session_answers_like_a_missing_one(new_client):
    alice, mallory = new_client(), new_client()
    session_id = _register(alice).session_id
    answers = []
    for target in (session_id, "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(NotFoundError) as caught:
            mallory.request("GET", f"/globus/sessions/{target}/tasks")
        answers.append(caught.value.to_json())
    assert answers[0] == answers[1]


def test_calls_without_a_client_token_are_refused(endpoint_url, new_client):
    session_id = _register(new_client()).session_id
    for headers in ({}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic eA=="}):
        reply = requests.get(
            f"{endpoint_url}/globus/sessions/{session_id}/tasks", headers=headers, timeout=5
        )
        assert reply.status_code == 401
        assert reply.json()["code"] == "ClientUnauthenticated"
        assert set(reply.json()) == {"code", "message", "required_scopes"}


def test_closing_is_refused_to_others_and_allowed_to_the_owner(new_client):
    alice, mallory = new_client(), new_client()
    globus = _register(alice)
    session_id = globus.session_id
    with pytest.raises(NotFoundError):
        mallory.request("DELETE", f"/globus/sessions/{session_id}")
    # still alive for its owner: the event stream answers
    assert globus._fetch_events(0, 0.0) == {"events": [], "closed": False}
    globus.close_session()
    with pytest.raises(NotFoundError):
        alice.request("GET", f"/globus/sessions/{session_id}/tasks")


def test_unregistering_a_client_closes_its_sessions(new_client):
    alice = new_client()
    globus = _register(alice)
    session_id = globus.session_id
    old_token = alice._token
    alice.close()
    reply = requests.get(
        f"{alice.url}/globus/sessions/{session_id}/events",
        headers={"Authorization": f"Bearer {old_token}"},
        timeout=5,
    )
    assert reply.status_code == 401


def test_client_token_stays_out_of_reprs(new_client):
    alice = new_client()
    globus = _register(alice)
    assert alice._token
    assert alice._token not in repr(alice) + repr(globus)


def test_a_forged_client_token_is_refused(new_client):
    alice = new_client()
    session_id = _register(alice).session_id
    alice._token = "forged"
    with pytest.raises(ClientAuthError):
        alice.request("GET", f"/globus/sessions/{session_id}/tasks")


def test_a_closed_endpoint_client_does_not_register_again(new_client):
    alice = new_client()
    _register(alice)
    alice.close()
    with pytest.raises(PluginError) as caught:
        alice.request("GET", "/globus/sessions/x/tasks")
    assert caught.value.code == "ClientClosed"
