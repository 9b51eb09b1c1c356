"""Mapped collections answer ConsentRequired until the token carries data_access."""

from __future__ import annotations

import globus_sdk
import pytest

from tests.sim.transfer_data.conftest import Harness


def mapped_collection(harness: Harness) -> str:
    return str(harness.collection(harness.collection_1).mapped_collection_id)


def test_consent_required_populates_the_sdk_error_info(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    mapped = mapped_collection(harness)
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.operation_ls(mapped, path="/")
    err = caught.value
    assert err.http_status == 403 and err.code == "ConsentRequired"
    assert err.info.consent_required
    expected = (
        "urn:globus:auth:scope:transfer.api.globus.org:all"
        f"[*https://auth.globus.org/scopes/{mapped}/data_access]"
    )
    assert err.info.consent_required.required_scopes == [expected]
    assert err.info.authorization_parameters
    assert err.info.authorization_parameters.session_message == (
        "Missing required data_access consent"
    )


def test_transfer_into_mapped_collection_needs_consent_too(
    harness: Harness, tc: globus_sdk.TransferClient
) -> None:
    tdata = globus_sdk.TransferData(harness.collection_1, mapped_collection(harness))
    tdata.add_item("/~/file1.txt", "/share/file1.txt")
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.submit_transfer(tdata)
    assert caught.value.info.consent_required


def test_token_with_the_required_scope_gets_through(harness: Harness) -> None:
    mapped = mapped_collection(harness)
    without = harness.transfer_client()
    with pytest.raises(globus_sdk.TransferAPIError) as caught:
        without.operation_mkdir(mapped, "/home/share/newdir")
    # Log in again asking for exactly what the error named, as an application would.
    required = caught.value.info.consent_required.required_scopes
    granted = harness.transfer_client(scopes=" ".join(required))
    assert granted.operation_mkdir(mapped, "/home/share/newdir")["code"] == "DirectoryCreated"
    names = [entry["name"] for entry in granted.operation_ls(mapped, path="/home/share/")]
    # The tutorial (guest) collection shares this mapped collection's storage.
    assert {"newdir", "godata"} <= set(names)
    assert "newdir" in [
        e["name"] for e in granted.operation_ls(harness.collection_1, path="/home/share")
    ]
    # The consent is per collection: the other mapped collection still asks for its own.
    other = str(harness.collection(harness.collection_2).mapped_collection_id)
    with pytest.raises(globus_sdk.TransferAPIError) as still:
        granted.operation_ls(other)
    assert still.value.code == "ConsentRequired"
