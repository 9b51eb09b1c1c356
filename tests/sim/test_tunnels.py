"""Transfer tunnels and stream access points through TransferClient and TransferClientV2."""

from __future__ import annotations

import importlib
from typing import Any

import globus_sdk
import pytest
from globus_sdk.experimental import TunnelCreateDocument
from globus_sdk.services.transfer import CreateTunnelData

from orbit_sim.services.transfer.models import STOP_DELAY

from .conftest import Globus


def _listener(port: int = 5000) -> dict[str, Any]:
    attributes = {"listener_ip_address": "127.0.0.1", "listener_port": port}
    return {"data": {"type": "Tunnel", "attributes": attributes}}


STOP = {"data": {"type": "Tunnel", "attributes": {"state": "STOPPING"}}}


def _attributes(response: Any) -> dict[str, Any]:
    return response["data"]["attributes"]


@pytest.fixture(params=["v1", "v2"])
def client(request: pytest.FixtureRequest, globus: Globus) -> Any:
    return globus.transfer() if request.param == "v1" else globus.transfer_v2()


def _create(globus: Globus, client: Any, **options: Any) -> str:
    world = globus.sim.world
    if isinstance(client, globus_sdk.TransferClient):
        data = CreateTunnelData(world.initiator_ap_id, world.listener_ap_id, **options)
    else:
        data = TunnelCreateDocument(world.initiator_ap_id, world.listener_ap_id, **options)
    return str(client.create_tunnel(data)["data"]["id"])


def test_tunnel_lifecycle_end_to_end(globus: Globus, client: Any) -> None:
    tunnel_id = _create(globus, client, label="e2e", lifetime_mins=30)
    created = _attributes(client.get_tunnel(tunnel_id))
    assert created["state"] == "AWAITING_LISTENER"
    assert created["initiator_port"] is None and created["label"] == "e2e"

    active = _attributes(client.update_tunnel(tunnel_id, _listener(5000)))
    assert active["state"] == "ACTIVE"
    assert (active["listener_ip_address"], active["listener_port"]) == ("127.0.0.1", 5000)
    assert active["initiator_ip_address"] == "127.0.0.1"
    assert isinstance(active["initiator_port"], int) and active["initiator_port"] > 0

    listed = list(client.list_tunnels())
    assert [t["id"] for t in listed] == [tunnel_id]

    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.delete_tunnel(tunnel_id)
    assert caught.value.http_status == 409

    assert _attributes(client.update_tunnel(tunnel_id, STOP))["state"] == "STOPPING"
    globus.sim.advance(STOP_DELAY)
    stopped = _attributes(client.get_tunnel(tunnel_id))
    assert stopped["state"] == "STOPPED" and stopped["initiator_port"] is None

    codes = [e["attributes"]["code"] for e in client.get_tunnel_events(tunnel_id)["data"]]
    assert codes == ["STARTED", "TUNNEL_ACTIVE", "TUNNEL_STOPPED"]

    client.delete_tunnel(tunnel_id)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        client.get_tunnel(tunnel_id)
    assert caught.value.http_status == 404
    assert caught.value.code == "NotFound"


def test_listener_port_as_string_like_globus_cli_sends(globus: Globus) -> None:
    tc = globus.transfer()
    tunnel_id = _create(globus, tc)
    attributes = _attributes(tc.update_tunnel(tunnel_id, _listener("6001")))  # type: ignore[arg-type]
    assert attributes["listener_port"] == 6001 and attributes["state"] == "ACTIVE"


def test_create_with_listener_contact_is_active_at_once(globus: Globus) -> None:
    tc2 = globus.transfer_v2()
    tunnel_id = _create(globus, tc2, listener_ip_address="127.0.0.1", listener_port=7000)
    assert _attributes(tc2.get_tunnel(tunnel_id))["state"] == "ACTIVE"


@pytest.mark.parametrize(
    "update",
    [
        _listener(0),
        {"data": {"type": "Tunnel", "attributes": {"state": "ACTIVE"}}},
        {"data": {"type": "Tunnel", "attributes": {"initiator_port": 1}}},
        {"nodata": True},
    ],
)
def test_bad_updates_are_400(globus: Globus, update: dict[str, Any]) -> None:
    tc = globus.transfer()
    tunnel_id = _create(globus, tc)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.update_tunnel(tunnel_id, update)
    assert caught.value.http_status == 400


def test_unknown_access_point_is_400(globus: Globus) -> None:
    tc = globus.transfer()
    data = CreateTunnelData("11111111-2222-3333-4444-555555555555", globus.sim.world.listener_ap_id)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.create_tunnel(data)
    assert caught.value.http_status == 400


def test_lifetime_expiry_on_the_virtual_clock(globus: Globus) -> None:
    tc = globus.transfer()
    tunnel_id = _create(globus, tc, lifetime_mins=10)
    tc.update_tunnel(tunnel_id, _listener())
    globus.sim.advance(9 * 60)
    assert _attributes(tc.get_tunnel(tunnel_id))["state"] == "ACTIVE"
    globus.sim.advance(60)
    expired = _attributes(tc.get_tunnel(tunnel_id))
    assert expired["state"] == "STOPPED"
    codes = [e["attributes"]["code"] for e in tc.get_tunnel_events(tunnel_id)["data"]]
    assert codes[-2:] == ["TUNNEL_EXPIRED", "TUNNEL_STOPPED"]


def test_restart_moves_the_initiator_port_of_a_restartable_tunnel(globus: Globus) -> None:
    tc = globus.transfer()
    tunnel_id = _create(globus, tc, restartable=True)
    before = _attributes(tc.update_tunnel(tunnel_id, _listener()))["initiator_port"]
    globus.sim.restart_tunnel(tunnel_id)
    after = _attributes(tc.get_tunnel(tunnel_id))
    assert after["state"] == "ACTIVE"
    assert after["initiator_port"] != before


def test_restart_stops_a_tunnel_that_is_not_restartable(globus: Globus) -> None:
    tc = globus.transfer()
    tunnel_id = _create(globus, tc, restartable=False)
    tc.update_tunnel(tunnel_id, _listener())
    globus.sim.restart_tunnel(tunnel_id)
    assert _attributes(tc.get_tunnel(tunnel_id))["state"] == "STOPPED"


def test_submission_id_makes_create_idempotent(globus: Globus) -> None:
    tc = globus.transfer()
    world = globus.sim.world
    data = CreateTunnelData(world.initiator_ap_id, world.listener_ap_id, submission_id="sub-1")
    assert tc.create_tunnel(data)["data"]["id"] == tc.create_tunnel(data)["data"]["id"]
    assert len(list(tc.list_tunnels())) == 1


def test_access_points_get_and_paginate_with_the_sdk_paginator(globus: Globus) -> None:
    tc2 = globus.transfer_v2()
    world = globus.sim.world
    pages = list(tc2.paginated.list_stream_access_points(query_params={"page[size]": 1}))
    assert len(pages) == 2
    ids = [ap["id"] for page in pages for ap in page]
    assert sorted(ids) == sorted([world.initiator_ap_id, world.listener_ap_id])
    assert len(list(tc2.paginated.list_stream_access_points())) == 1  # one page by default

    doc = globus.transfer().get_stream_access_point(world.listener_ap_id)["data"]
    endpoint_id = doc["relationships"]["host_endpoint"]["data"]["id"]
    assert endpoint_id == world.endpoints[1].id


def test_access_point_filter(globus: Globus) -> None:
    tc2 = globus.transfer_v2()
    found = list(tc2.list_stream_access_points(query_params={"filter[fulltext]": "listener"}))
    assert [ap["id"] for ap in found] == [globus.sim.world.listener_ap_id]


def test_another_identity_cannot_see_or_change_the_tunnel(globus: Globus) -> None:
    owner = globus.transfer()
    tunnel_id = _create(globus, owner)
    other = globus.transfer(globus.new_identity())
    assert list(other.list_tunnels()) == []
    for call in (
        lambda: other.get_tunnel(tunnel_id),
        lambda: other.update_tunnel(tunnel_id, STOP),
        lambda: other.delete_tunnel(tunnel_id),
        lambda: other.get_tunnel_events(tunnel_id),
    ):
        with pytest.raises(globus_sdk.TransferAPIError) as caught:
            call()
        assert caught.value.http_status in (403, 404)
    assert _attributes(owner.get_tunnel(tunnel_id))["state"] == "AWAITING_LISTENER"


FIXTURES = {
    "create_tunnel": (
        "create_tunnel",
        lambda g, c, t: c.create_tunnel(
            CreateTunnelData(g.sim.world.initiator_ap_id, g.sim.world.listener_ap_id)
        ),
    ),
    "get_tunnel": ("get_tunnel", lambda g, c, t: c.get_tunnel(t)),
    "update_tunnel": ("update_tunnel", lambda g, c, t: c.update_tunnel(t, STOP)),
    "list_tunnels": ("list_tunnels", lambda g, c, t: c.get("/v2/tunnels")),
    "get_tunnel_events": ("get_tunnel_events", lambda g, c, t: c.get_tunnel_events(t)),
    "get_stream_access_point": (
        "get_stream_access_point",
        lambda g, c, t: c.get_stream_access_point(g.sim.world.initiator_ap_id),
    ),
    "delete_tunnel": ("delete_tunnel", lambda g, c, t: c.delete_tunnel(t)),
    "list_stream_access_points": (
        "list_stream_access_points",
        lambda g, c, t: c.get("/v2/stream_access_points"),
    ),
}


def _keys(doc: Any, prefix: str = "") -> set[str]:
    """Every key path in a document; list items contribute their keys under `[]`."""
    found: set[str] = set()
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= _keys(value, path)
    elif isinstance(doc, list):
        for item in doc:
            found |= _keys(item, f"{prefix}[]")
    return found


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("package", ["transfer", "transfer.v2"])
def test_documents_have_every_key_of_the_sdk_fixture(
    globus: Globus, name: str, package: str
) -> None:
    try:
        fixture = importlib.import_module(f"globus_sdk.testing.data.{package}.{name}")
    except ImportError:
        pytest.skip(f"globus-sdk has no {package}.{name} fixture")
    expected = _keys(fixture.RESPONSES.lookup("default").json)
    tc = globus.transfer()
    tunnel_id = _create(globus, tc)
    tc.update_tunnel(tunnel_id, _listener())
    if name == "delete_tunnel":
        tc.update_tunnel(tunnel_id, STOP)
    doc = FIXTURES[name][1](globus, tc, tunnel_id).data
    missing = expected - _keys(doc)
    assert not missing, f"{name}: keys missing from the simulator's document: {sorted(missing)}"
