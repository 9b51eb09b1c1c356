"""GCS Manager LAN secrets through an unmodified GCSClient (HTTPS with the sim's CA)."""

from __future__ import annotations

import uuid
from typing import Any

import globus_sdk
import pytest
import requests
from globus_sdk.services.transfer import CreateTunnelData

from orbit_globus.lan import Credential

from .conftest import Globus

CREATE = "lan_secret_create#1.0.0"


def _tunnel(globus: Globus, identity: Any = None) -> str:
    world = globus.sim.world
    data = CreateTunnelData(world.initiator_ap_id, world.listener_ap_id)
    return str(globus.transfer(identity).create_tunnel(data)["data"]["id"])


def _create(gcs: globus_sdk.GCSClient, tunnel_id: str, access_point_id: str) -> dict[str, Any]:
    body = {"DATA_TYPE": CREATE, "tunnel_id": tunnel_id, "stream_access_point_id": access_point_id}
    return dict(gcs.post("/lan_secrets", data=body)["data"][0])


def test_create_and_delete_lan_secret(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    ap_id = globus.sim.world.initiator_ap_id
    gcs = globus.gcs(0)
    created = _create(gcs, tunnel_id, ap_id)
    assert created["secret"] and uuid.UUID(created["id"])
    assert globus.sim.gcs.lan_secret_for(tunnel_id, ap_id) == Credential(
        created["secret"], uuid.UUID(created["id"])
    )

    deleted = gcs.delete(f"/lan_secrets/{created['id']}")
    assert deleted["http_response_code"] == 200
    assert globus.sim.gcs.lan_secret_for(tunnel_id, ap_id) is None
    with pytest.raises(globus_sdk.GCSAPIError) as caught:
        gcs.delete(f"/lan_secrets/{created['id']}")
    assert caught.value.http_status == 404


def test_a_second_secret_revokes_the_first(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    ap_id = globus.sim.world.listener_ap_id
    gcs = globus.gcs(1)
    first = _create(gcs, tunnel_id, ap_id)
    second = _create(gcs, tunnel_id, ap_id)
    assert first["secret"] != second["secret"]
    active = globus.sim.gcs.lan_secret_for(tunnel_id, ap_id)
    assert active is not None and str(active.secret_id) == second["id"]
    assert globus.sim.gcs.is_stale(first["id"]) and not globus.sim.gcs.is_stale(second["id"])


def test_secret_for_an_access_point_on_another_endpoint_is_refused(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    with pytest.raises(globus_sdk.GCSAPIError) as caught:
        _create(globus.gcs(0), tunnel_id, globus.sim.world.listener_ap_id)
    assert caught.value.http_status == 404


def test_revoke_control_action(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    ap_id = globus.sim.world.initiator_ap_id
    created = _create(globus.gcs(0), tunnel_id, ap_id)
    assert globus.sim.revoke_secret(created["id"])
    assert globus.sim.gcs.lan_secret_for(tunnel_id, ap_id) is None


def test_another_identity_cannot_get_or_delete_secrets(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    ap_id = globus.sim.world.initiator_ap_id
    created = _create(globus.gcs(0), tunnel_id, ap_id)
    intruder = globus.gcs(0, globus.new_identity())
    with pytest.raises(globus_sdk.GCSAPIError) as caught:
        _create(intruder, tunnel_id, ap_id)
    assert caught.value.http_status in (403, 404)
    with pytest.raises(globus_sdk.GCSAPIError) as caught:
        intruder.delete(f"/lan_secrets/{created['id']}")
    assert caught.value.http_status in (403, 404)
    active = globus.sim.gcs.lan_secret_for(tunnel_id, ap_id)
    assert active is not None and str(active.secret_id) == created["id"]


def test_gcs_token_of_another_endpoint_is_401(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    wrong = globus.sim.world.endpoints[1]
    scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(wrong.id).manage_collections
    authorizer = globus_sdk.ClientCredentialsAuthorizer(globus.auth_client(), scope)
    gcs = globus_sdk.GCSClient(globus.sim.world.endpoints[0].gcs_address, authorizer=authorizer)
    with pytest.raises(globus_sdk.GCSAPIError) as caught:
        _create(gcs, tunnel_id, globus.sim.world.initiator_ap_id)
    assert caught.value.http_status == 401


def test_disabled_lan_auth_hands_out_an_empty_key(globus: Globus) -> None:
    tunnel_id = _tunnel(globus)
    ap_id = globus.sim.world.initiator_ap_id
    globus.sim.transfer.access_points[ap_id].lan_auth = False
    assert _create(globus.gcs(0), tunnel_id, ap_id)["secret"] == ""


@pytest.mark.parametrize("mode", ["loopback"])
def test_gcs_manager_is_real_https_checked_against_the_sim_ca(globus: Globus) -> None:
    address = globus.sim.world.endpoints[0].gcs_address
    assert address.startswith("127.0.0.1:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://{address}/api/lan_secrets/x", verify=True, timeout=5)
    assert globus.server is not None
    reply = requests.delete(
        f"https://{address}/api/lan_secrets/x", verify=str(globus.server.ca_path), timeout=5
    )
    assert reply.status_code == 401


def test_simulator_without_lan_auth_has_open_access_points() -> None:
    from orbit_sim import Simulator

    with Simulator(lan_auth=False) as sim:
        assert sim.transfer.access_points
        assert not any(ap.lan_auth for ap in sim.transfer.access_points.values())


def test_gcs_info_names_the_endpoint(globus: Globus) -> None:
    endpoint = globus.sim.world.endpoints[1]
    info = globus_sdk.GCSClient(endpoint.gcs_address).get_gcs_info()
    assert info["endpoint_id"] == endpoint.id
    assert info["DATA_TYPE"] == "info#1.0.0"
