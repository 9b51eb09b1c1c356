"""The control API over HTTP (SimControl) and the Simulator's Python control methods."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import globus_sdk
import pytest
from globus_sdk.services.transfer import CreateTunnelData

from orbit_sim import Simulator, serve
from orbit_sim.control import SimControl, SimControlError
from orbit_sim.server import ServerHandle
from orbit_sim.services.auth.scopes import TRANSFER_ALL


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServerHandle, SimControl]]:
    sim = Simulator("virtual")
    handle = serve(sim)
    control = handle.control()
    try:
        for key, value in handle.env.items():
            monkeypatch.setenv(key, value)
        yield handle, control
    finally:
        control.close()
        handle.stop()
        sim.close()


def _transfer(client_id: str, secret: str) -> globus_sdk.TransferClient:
    auth = globus_sdk.ConfidentialAppAuthClient(client_id, secret)
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth, TRANSFER_ALL)
    return globus_sdk.TransferClient(authorizer=authorizer)


def _active_tunnel(handle: ServerHandle, tc: globus_sdk.TransferClient, **options: object) -> str:
    env = handle.env
    data = CreateTunnelData(env["ORBIT_SIM_INITIATOR_AP"], env["ORBIT_SIM_LISTENER_AP"], **options)
    tunnel_id = str(tc.create_tunnel(data)["data"]["id"])
    attributes = {"listener_ip_address": "127.0.0.1", "listener_port": 9000}
    tc.update_tunnel(tunnel_id, {"data": {"type": "Tunnel", "attributes": attributes}})
    return tunnel_id


def test_clock_advances_through_the_control_api(served: tuple[ServerHandle, SimControl]) -> None:
    handle, control = served
    before = control.now()
    assert control.advance(90) == pytest.approx(before + 90)
    assert handle.sim.clock.now() == pytest.approx(before + 90)
    with pytest.raises(SimControlError, match="seconds"):
        control.advance(-1)


def test_tunnel_actions(served: tuple[ServerHandle, SimControl]) -> None:
    handle, control = served
    tc = _transfer(
        handle.env["GLOBUS_STREAMS_CLIENT_ID"], handle.env["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    restartable = _active_tunnel(handle, tc, restartable=True)
    port = tc.get_tunnel(restartable)["data"]["attributes"]["initiator_port"]
    assert control.restart_tunnel(restartable)["initiator_port"] != port

    stopped = _active_tunnel(handle, tc)
    assert control.stop_tunnel(stopped)["state"] == "STOPPING"
    control.advance(5)
    assert tc.get_tunnel(stopped)["data"]["attributes"]["state"] == "STOPPED"

    expired = _active_tunnel(handle, tc)
    assert control.expire_tunnel(expired)["state"] == "STOPPED"
    with pytest.raises(SimControlError, match="404"):
        control.stop_tunnel("no-such-tunnel")


def test_faults_add_list_remove(served: tuple[ServerHandle, SimControl]) -> None:
    _, control = served
    added = control.add_fault("http:route=get_task,status=503,count=2")
    assert added["kind"] == "http" and added["status"] == 503
    assert [f["id"] for f in control.list_faults()] == [added["id"]]
    control.remove_fault(added["id"])
    assert control.list_faults() == []
    control.add_fault({"kind": "drop", "route": "/v2/*"})
    control.clear_faults()
    assert control.list_faults() == []
    with pytest.raises(SimControlError, match="unknown fault kind"):
        control.add_fault("bogus:x=1")


def test_tokens_expire_and_refresh_through_control(served: tuple[ServerHandle, SimControl]) -> None:
    handle, control = served
    state = control.state()["world"]
    tokens = control.issue_tokens(TRANSFER_ALL)
    authorizer = globus_sdk.RefreshTokenAuthorizer(
        tokens["refresh_token"], globus_sdk.NativeAppAuthClient(state["native_client_id"])
    )
    tc = globus_sdk.TransferClient(authorizer=authorizer)
    tc.list_tunnels()
    first = authorizer.access_token
    assert control.expire_tokens() >= 1
    tc.list_tunnels()
    assert authorizer.access_token != first


def test_second_client_is_a_separate_identity(served: tuple[ServerHandle, SimControl]) -> None:
    handle, control = served
    env = handle.env
    owner = _transfer(env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"])
    tunnel_id = _active_tunnel(handle, owner)
    extra = control.create_client("intruder")
    intruder = _transfer(extra["client_id"], extra["client_secret"])
    assert list(intruder.list_tunnels()) == []
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        intruder.get_tunnel(tunnel_id)
    assert caught.value.http_status == 404


def test_reset_forgets_state_but_keeps_the_env_valid(
    served: tuple[ServerHandle, SimControl],
) -> None:
    handle, control = served
    env_before = handle.env
    tc = _transfer(
        env_before["GLOBUS_STREAMS_CLIENT_ID"], env_before["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    _active_tunnel(handle, tc)
    control.add_fault("http:route=get_task,status=500")
    control.reset()
    assert handle.env == env_before
    assert control.state()["tunnels"] == [] and control.list_faults() == []
    fresh = _transfer(
        env_before["GLOBUS_STREAMS_CLIENT_ID"], env_before["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    assert list(fresh.list_tunnels()) == []
    tunnel_id = _active_tunnel(handle, fresh)
    endpoint = handle.sim.world.endpoints[0]
    scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint.id).manage_collections
    auth = globus_sdk.ConfidentialAppAuthClient(
        env_before["GLOBUS_STREAMS_CLIENT_ID"], env_before["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    gcs = globus_sdk.GCSClient(
        endpoint.gcs_address, authorizer=globus_sdk.ClientCredentialsAuthorizer(auth, scope)
    )
    body = {
        "DATA_TYPE": "lan_secret_create#1.0.0",
        "tunnel_id": tunnel_id,
        "stream_access_point_id": env_before["ORBIT_SIM_INITIATOR_AP"],
    }
    assert gcs.post("/lan_secrets", data=body)["data"][0]["secret"]


def test_control_api_is_not_reachable_under_service_prefixes(
    served: tuple[ServerHandle, SimControl],
) -> None:
    import requests

    handle, _ = served
    assert requests.get(handle.transfer_url + "state", timeout=5).status_code == 404
    assert requests.get(handle.base_url + "/nothing", timeout=5).status_code == 404


def test_server_reads_chunked_bodies_and_keeps_the_connection(
    served: tuple[ServerHandle, SimControl],
) -> None:
    import requests

    handle, _ = served
    env = handle.env

    def body() -> Iterator[bytes]:
        yield b"grant_type=client_credentials&"
        yield f"scope={TRANSFER_ALL}".encode()

    with requests.Session() as session:
        reply = session.post(
            handle.auth_url + "v2/oauth2/token",
            data=body(),
            auth=(env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert reply.request.headers["Transfer-Encoding"] == "chunked"
        assert reply.status_code == 200 and reply.json()["scope"] == TRANSFER_ALL
        assert session.get(handle.control_url + "/clock").status_code == 200


def test_server_answers_a_malformed_request_with_400_and_closes(
    served: tuple[ServerHandle, SimControl],
) -> None:
    handle, _ = served
    with socket.create_connection((handle.host, handle.port), timeout=5) as sock:
        sock.sendall(b"GET /control/clock HTTP/1.1\r\nContent-Length: nine\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b'"code": "BadRequest"' in reply


def test_a_handler_bug_is_a_logged_500_not_a_dropped_connection(
    served: tuple[ServerHandle, SimControl], caplog: pytest.LogCaptureFixture
) -> None:
    import requests

    handle, _ = served

    def broken(sim: object, request: object) -> dict[str, str]:
        raise RuntimeError("simulated bug")

    handle.sim.routers["control"].add("GET", "/boom", broken, auth=False)
    reply = requests.get(handle.control_url + "/boom", timeout=5)
    assert reply.status_code == 500 and reply.json()["code"] == "InternalError"
    assert "simulated bug" in caplog.text


def test_simcontrol_mirrors_the_simulators_control_methods() -> None:
    import inspect

    from orbit_sim.control.api import CONTROL_API

    for call in CONTROL_API:
        ours = inspect.signature(getattr(SimControl, call.name))
        theirs = inspect.signature(getattr(Simulator, call.name))
        assert list(ours.parameters) == list(theirs.parameters), call.name
        assert inspect.getdoc(getattr(SimControl, call.name)) == inspect.getdoc(
            getattr(Simulator, call.name)
        )


def test_control_refuses_unknown_fields_naming_the_known_ones(
    served: tuple[ServerHandle, SimControl],
) -> None:
    import requests

    handle, control = served
    reply = requests.post(handle.control_url + "/clock/advance", json={"secs": 1}, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["message"] == "unknown field(s) 'secs' for advance (known: seconds)"
    reply = requests.post(handle.control_url + "/faults", json={}, timeout=5)
    assert reply.status_code == 400 and "missing a required argument: 'fault'" in reply.text


def test_fault_objects_travel_as_json(served: tuple[ServerHandle, SimControl]) -> None:
    from orbit_sim.faults.latency import Latency

    handle, control = served
    added = control.add_fault(Latency(leg=3, direction="downstream", ms=5, jitter_ms=2))
    assert handle.sim.list_faults() == [Latency(**{k: v for k, v in added.items() if k != "kind"})]
    with pytest.raises(SimControlError, match="unknown route name 'nope'"):
        control.add_fault("drop:route=nope")
