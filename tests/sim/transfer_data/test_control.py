"""The transfer-data control routes over the loopback server's control API."""

from __future__ import annotations

import globus_sdk
import pytest
import requests

from tests.sim.transfer_data.conftest import Harness


@pytest.fixture
def served(loopback: Harness) -> tuple[Harness, str]:
    assert loopback.control_url is not None
    return loopback, loopback.control_url


def test_files_rates_and_quota_through_the_control_api(served: tuple[Harness, str]) -> None:
    harness, control = served
    c1, c2 = harness.collection_1, harness.collection_2
    put = requests.post(
        f"{control}/transfer/collections/{c1}/files",
        json={"path": "/~/new/data.bin", "size": 5_000_000},
        timeout=10,
    )
    assert put.status_code == 200 and put.json()["path"] == "/home/share/godata/new/data.bin"
    rates = requests.put(
        f"{control}/transfer/rates",
        json={"bytes_per_second": 1e6, "seconds_per_file": 0},
        timeout=10,
    )
    assert rates.json()["bytes_per_second"] == 1e6

    tc = harness.transfer_client()
    assert tc.operation_stat(c1, "/~/new/data.bin")["size"] == 5_000_000
    tdata = globus_sdk.TransferData(c1, c2)
    tdata.add_item("/~/new/data.bin", "/~/data.bin")
    task_id = tc.submit_transfer(tdata)["task_id"]
    requests.post(f"{control}/clock/advance", json={"seconds": 2}, timeout=10)
    assert tc.get_task(task_id)["bytes_transferred"] == 2_000_000

    quota = requests.put(
        f"{control}/transfer/collections/{c2}/quota", json={"quota_bytes": 10}, timeout=10
    )
    assert quota.json()["quota_bytes"] == 10
    assert harness.collection(c2).quota_bytes == 10


def test_controls_survive_a_reset(served: tuple[Harness, str]) -> None:
    harness, control = served
    assert requests.post(f"{control}/reset", json={}, timeout=10).status_code == 200
    assert requests.get(f"{control}/transfer/rates", timeout=10).status_code == 200
    routes = [r.pattern for r in harness.sim.routers["control"].routes]
    assert routes.count("/transfer/rates") == 2  # GET and PUT, registered once


def test_bad_control_input_is_a_400(served: tuple[Harness, str]) -> None:
    harness, control = served
    both = requests.post(
        f"{control}/transfer/collections/{harness.collection_1}/files",
        json={"path": "/~/x", "size": 1, "content": "y"},
        timeout=10,
    )
    assert both.status_code == 400 and "exactly one" in both.json()["message"]
    unknown = requests.put(f"{control}/transfer/rates", json={"speed": 3}, timeout=10)
    assert unknown.status_code == 400
    missing = requests.put(
        f"{control}/transfer/collections/00000000-0000-0000-0000-000000000000/quota",
        json={"quota_bytes": 1},
        timeout=10,
    )
    assert missing.status_code == 404
