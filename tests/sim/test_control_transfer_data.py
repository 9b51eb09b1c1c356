"""The transfer-data controls (files, quotas, task rates) through SimControl against a
served simulator, and the Simulator's methods of the same names."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import globus_sdk
import pytest

from orbit_sim import Simulator
from orbit_sim.control import SimControl, SimControlError
from orbit_sim.control.urls import build_router
from orbit_sim.server import ServerHandle
from orbit_sim.services.auth.scopes import TRANSFER_ALL

TRANSFER_DATA_METHODS = ("put_file", "set_quota", "get_rates", "set_rates")
MB = 1_000_000


@pytest.fixture
def control(sim_server_env: ServerHandle) -> Iterator[SimControl]:
    with sim_server_env.control() as client:
        yield client


def transfer_client(handle: ServerHandle) -> globus_sdk.TransferClient:
    env = handle.env
    auth = globus_sdk.ConfidentialAppAuthClient(
        env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]
    )
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth, TRANSFER_ALL)
    return globus_sdk.TransferClient(authorizer=authorizer)


@pytest.mark.parametrize("name", TRANSFER_DATA_METHODS)
def test_simcontrol_and_simulator_share_the_method(name: str) -> None:
    over_http = inspect.signature(getattr(SimControl, name))
    in_process = inspect.signature(getattr(Simulator, name))
    assert list(over_http.parameters) == list(in_process.parameters)


def test_put_files_and_set_rates_then_a_transfer_moves_at_that_rate(
    sim_server_env: ServerHandle, control: SimControl
) -> None:
    c1, c2 = (
        sim_server_env.env["ORBIT_SIM_COLLECTION_1"],
        sim_server_env.env["ORBIT_SIM_COLLECTION_2"],
    )
    put = control.put_file(c1, "/~/new/data.bin", size=5 * MB)
    assert put["path"].endswith("/new/data.bin") and put["size"] == 5 * MB
    text = control.put_file(c1, "/~/new/notes.txt", content="hello")
    assert text["size"] == 5
    rates = control.set_rates(bytes_per_second=1 * MB, seconds_per_file=0)
    assert rates["bytes_per_second"] == 1 * MB and rates["seconds_per_file"] == 0
    assert control.get_rates() == rates

    tc = transfer_client(sim_server_env)
    listed = {entry["name"]: entry["size"] for entry in tc.operation_ls(c1, path="/~/new/")}
    assert listed == {"data.bin": 5 * MB, "notes.txt": 5}
    tdata = globus_sdk.TransferData(c1, c2)
    tdata.add_item("/~/new/data.bin", "/~/data.bin")
    task_id = tc.submit_transfer(tdata)["task_id"]
    control.advance(2)
    assert tc.get_task(task_id)["bytes_transferred"] == 2 * MB


def test_a_quota_fails_a_transfer_that_does_not_fit(
    sim_server_env: ServerHandle, control: SimControl
) -> None:
    env = sim_server_env.env
    c1, c2 = env["ORBIT_SIM_COLLECTION_1"], env["ORBIT_SIM_COLLECTION_2"]
    control.put_file(c1, "/~/big.bin", size=MB)
    assert control.set_quota(c2, 10) == {"collection_id": c2, "quota_bytes": 10}

    tc = transfer_client(sim_server_env)
    tdata = globus_sdk.TransferData(c1, c2, fail_on_quota_errors=True)
    tdata.add_item("/~/big.bin", "/~/big.bin")
    task_id = tc.submit_transfer(tdata)["task_id"]
    control.advance(60)
    task = tc.get_task(task_id)
    assert task["status"] == "FAILED" and task["fatal_error"]["code"] == "QUOTA_EXCEEDED"
    assert control.set_quota(c2, None)["quota_bytes"] is None


def test_bad_input_is_a_clear_error(sim_server_env: ServerHandle, control: SimControl) -> None:
    c1 = sim_server_env.env["ORBIT_SIM_COLLECTION_1"]
    with pytest.raises(SimControlError, match="exactly one"):
        control.put_file(c1, "/~/x", size=1, content="y")
    with pytest.raises(SimControlError, match="bytes_per_second"):
        control.set_rates(bytes_per_second=0)
    with pytest.raises(SimControlError, match=" 404 "):
        control.set_quota("00000000-0000-0000-0000-000000000000", 1)


def test_the_simulator_methods_answer_like_the_control_api(
    sim_server_env: ServerHandle, control: SimControl
) -> None:
    sim = sim_server_env.sim
    c1 = sim_server_env.env["ORBIT_SIM_COLLECTION_1"]
    assert sim.put_file(c1, "/~/a.txt", content="abc") == control.put_file(
        c1, "/~/a.txt", content="abc"
    )
    assert sim.set_rates(seconds_per_delete=2.5) == control.get_rates()
    assert sim.set_quota(c1, 7) == control.set_quota(c1, 7)


def test_each_control_route_is_registered_once_and_survives_a_reset(
    sim_server_env: ServerHandle, control: SimControl
) -> None:
    patterns = [(r.method, r.pattern) for r in build_router().routes]
    assert len(patterns) == len(set(patterns))
    assert ("PUT", "/transfer/rates") in patterns
    control.set_rates(seconds_per_file=3)
    control.reset()
    assert control.get_rates()["seconds_per_file"] != 3  # the reset state, still reachable
