"""get_endpoint and endpoint_search (with the SDK's paginator) against the simulator."""

from __future__ import annotations

import globus_sdk
import pytest

from tests.sim.transfer_data.conftest import Harness


def test_get_endpoint_for_collections_and_gcs_endpoints(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    doc = tc.get_endpoint(harness.collection_1)
    assert doc["display_name"] == "Globus Tutorial Collection 1"
    assert doc["entity_type"] == "GCSv5_guest_collection"
    mapped = tc.get_endpoint(doc["mapped_collection_id"])
    assert mapped["entity_type"] == "GCSv5_mapped_collection"
    host = tc.get_endpoint(doc["non_functional_endpoint_id"])
    assert host["entity_type"] == "GCSv5_endpoint"
    assert host["non_functional"] is True
    assert host["gcs_manager_url"] == doc["gcs_manager_url"]
    gcs = harness.sim.gcs.endpoints[host["id"]]
    assert host["gcs_manager_url"] == gcs.manager_url


def test_get_unknown_endpoint_is_404(tc: globus_sdk.TransferClient) -> None:
    with pytest.raises(globus_sdk.TransferAPIError) as err:
        tc.get_endpoint("11111111-2222-3333-4444-555555555555")
    assert err.value.http_status == 404
    assert err.value.code == "EndpointNotFound"


def test_endpoint_search_fulltext_and_filters(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    tutorial = [ep["display_name"] for ep in tc.endpoint_search("tutorial")]
    assert tutorial == ["Globus Tutorial Collection 1", "Globus Tutorial Collection 2"]
    mapped = list(tc.endpoint_search("orbit-sim", filter_entity_type="GCSv5_mapped_collection"))
    assert len(mapped) == 2
    assert all(ep["entity_type"] == "GCSv5_mapped_collection" for ep in mapped)
    with pytest.raises(globus_sdk.TransferAPIError) as bad:
        tc.endpoint_search()
    assert bad.value.http_status == 400


def test_endpoint_search_paginates_with_has_next_page(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    world = harness.sim.world
    for index in range(230):
        harness.data.add_collection(
            f"Paging Collection {index:03}",
            endpoint_id=world.endpoints[0].id,
            owner_id=world.user_id,
            owner_string="user@orbit-sim.example",
            kind="guest",
        )
    first = tc.endpoint_search("paging", limit=100)
    assert len(first["DATA"]) == 100 and first["has_next_page"] is True
    pages = list(tc.paginated.endpoint_search("paging"))
    assert [len(page["DATA"]) for page in pages] == [100, 100, 30]
    assert pages[-1]["has_next_page"] is False
    ids = [ep["id"] for ep in tc.paginated.endpoint_search("paging").items()]
    assert len(ids) == len(set(ids)) == 230
