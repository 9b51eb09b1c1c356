"""Our documents carry every key of the corresponding globus-sdk testing fixture."""

from __future__ import annotations

from typing import Any

import globus_sdk
from globus_sdk.testing import get_response_set

from tests.sim.transfer_data.conftest import Harness


def fixture_json(name: str, case: str = "default") -> dict[str, Any]:
    return get_response_set(f"transfer.{name}").lookup(case).json  # type: ignore[no-any-return]


def missing(ours: dict[str, Any], theirs: dict[str, Any]) -> set[str]:
    return set(theirs) - set(ours)


def test_endpoint_documents_have_fixture_keys(inprocess: Harness) -> None:
    tc = inprocess.transfer_client()
    expected = fixture_json("get_endpoint")
    for endpoint_id in (
        inprocess.collection_1,
        inprocess.collection(inprocess.collection_1).mapped_collection_id,
        inprocess.sim.world.endpoints[0].id,
    ):
        doc = tc.get_endpoint(str(endpoint_id)).data
        assert missing(doc, expected) == set()
        assert missing(doc["DATA"][0], expected["DATA"][0]) == set()


def test_operation_documents_have_fixture_keys(inprocess: Harness) -> None:
    tc = inprocess.transfer_client()
    c1 = inprocess.collection_1
    assert missing(tc.operation_mkdir(c1, "/~/d").data, fixture_json("operation_mkdir")) == set()
    rename = tc.operation_rename(c1, "/~/d", "/~/e").data
    assert missing(rename, fixture_json("operation_rename")) == set()
    stat = tc.operation_stat(c1, "/~/file1.txt").data
    assert missing(stat, fixture_json("operation_stat")) == set()
    listing = tc.operation_ls(c1)
    assert missing(listing["DATA"][0], fixture_json("operation_stat")) == set()
    try:
        tc.operation_stat(c1, "/~/nope")
    except globus_sdk.TransferAPIError as err:
        assert missing(err.raw_json or {}, fixture_json("operation_stat", "not_found")) == set()


def test_task_documents_have_fixture_keys(inprocess: Harness) -> None:
    tc = inprocess.transfer_client()
    submission = tc.get_submission_id().data
    assert missing(submission, fixture_json("get_submission_id")) == set()
    tdata = globus_sdk.TransferData(inprocess.collection_1, inprocess.collection_2)
    tdata.add_item("/~/file1.txt", "/~/copy.txt")
    submitted = tc.submit_transfer(tdata).data
    assert missing(submitted, fixture_json("submit_transfer")) == set()
    ddata = globus_sdk.DeleteData(inprocess.collection_2)
    ddata.add_item("/~/file2.txt")
    assert missing(tc.submit_delete(ddata).data, fixture_json("submit_delete")) == set()

    task_list = tc.task_list().data
    assert missing(task_list, fixture_json("task_list")) == set()
    for task in task_list["DATA"]:
        assert missing(task, fixture_json("task_list")["DATA"][0]) == set()
        # The endpoint-manager listing shows the fullest task document.
        assert missing(task, fixture_json("endpoint_manager_task_list")["DATA"][0]) == set()
    task = tc.get_task(submitted["task_id"]).data
    assert missing(task, fixture_json("endpoint_manager_task_list")["DATA"][0]) == set()

    inprocess.sim.advance(60)
    transfers = tc.task_successful_transfers(submitted["task_id"]).data
    reference = fixture_json("endpoint_manager_task_successful_transfers")
    assert missing(transfers, reference) == set()
    assert missing(transfers["DATA"][0], reference["DATA"][0]) == set()


def test_cancel_and_error_documents_have_fixture_keys(inprocess: Harness) -> None:
    tc = inprocess.transfer_client()
    inprocess.data.rates.bytes_per_second = 1.0
    tdata = globus_sdk.TransferData(inprocess.collection_1, inprocess.collection_2)
    tdata.add_item("/~/file1.txt", "/~/slow.txt")
    task_id = tc.submit_transfer(tdata)["task_id"]
    assert missing(tc.cancel_task(task_id).data, fixture_json("cancel_task")) == set()
    try:
        tc.submit_transfer(globus_sdk.TransferData(inprocess.collection_1, inprocess.collection_2))
    except globus_sdk.TransferAPIError as err:
        assert err.code == "ClientError.BadRequest.NoTransferItems"
        assert missing(err.raw_json or {}, fixture_json("submit_transfer", "failure")) == set()
    else:
        raise AssertionError("an empty transfer was accepted")
