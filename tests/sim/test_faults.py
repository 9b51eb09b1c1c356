"""API faults against the SDK's retry transport, and the fault spec parser."""

from __future__ import annotations

from typing import Any

import globus_sdk
import pytest

from orbit_sim import parse_fault_spec
from orbit_sim.faults import DropConnectionFault, HttpStatusFault

from .conftest import Globus, instant_backoff


@pytest.fixture(params=["v1", "v2"])
def tc(request: pytest.FixtureRequest, globus: Globus) -> Any:
    client = globus.transfer() if request.param == "v1" else globus.transfer_v2()
    client.list_tunnels()  # fetch the token now, so faults hit only the call under test
    return instant_backoff(client)


def test_429_with_retry_after_is_retried_then_succeeds(globus: Globus, tc: Any) -> None:
    fault = globus.sim.add_fault("http:route=list_tunnels,status=429,retry_after=1,count=1")
    assert tc.list_tunnels()["data"] == []
    assert fault.fired == 1 and fault not in globus.sim.list_faults()


def test_429_carries_retry_after(globus: Globus, tc: Any) -> None:
    globus.sim.add_fault("http:route=list_tunnels,status=429,retry_after=7")
    with tc.retry_config.tune(max_retries=0), pytest.raises(globus_sdk.GlobusAPIError) as caught:
        tc.list_tunnels()
    assert caught.value.http_status == 429
    assert caught.value.headers["Retry-After"] == "7"


@pytest.mark.parametrize("status", [500, 503])
def test_transient_errors_are_retried_then_succeed(globus: Globus, tc: Any, status: int) -> None:
    fault = globus.sim.add_fault(HttpStatusFault(route="list_tunnels", status=status, count=2))
    assert tc.list_tunnels()["data"] == []
    assert fault.fired == 2


def test_502_external_error_is_not_retried(globus: Globus, tc: Any) -> None:
    fault = globus.sim.add_fault("http:route=list_tunnels,status=502,count=3")
    with pytest.raises(globus_sdk.GlobusAPIError) as caught:
        tc.list_tunnels()
    assert caught.value.http_status == 502
    assert caught.value.code.startswith("ExternalError")
    assert fault.fired == 1


def test_dropped_connection_fails_without_retries(globus: Globus, tc: Any) -> None:
    globus.sim.add_fault(DropConnectionFault(route="list_tunnels"))
    with tc.retry_config.tune(max_retries=0), pytest.raises(globus_sdk.GlobusConnectionError):
        tc.list_tunnels()


def test_dropped_connection_is_retried_by_the_sdk(globus: Globus, tc: Any) -> None:
    fault = globus.sim.add_fault("drop:route=list_tunnels,count=2")
    assert tc.list_tunnels()["data"] == []
    assert fault.fired == 2


def test_faults_select_by_path_glob_method_and_service(globus: Globus) -> None:
    tc = instant_backoff(globus.transfer())
    tc.list_tunnels()
    globus.sim.add_fault("http:route=/v2/tunnels*,method=POST,status=503,count=0")
    globus.sim.add_fault("http:route=*,service=gcs,status=500,count=0")
    assert tc.list_tunnels()["data"] == []  # GET: not selected
    with tc.retry_config.tune(max_retries=0), pytest.raises(globus_sdk.TransferAPIError) as caught:
        tc.post("/v2/tunnels", data={"data": {}})
    assert caught.value.http_status == 503


def test_probability_zero_never_fires(globus: Globus) -> None:
    tc = globus.transfer()
    fault = globus.sim.add_fault("http:route=list_tunnels,status=500,probability=0,count=0")
    for _ in range(5):
        tc.list_tunnels()
    assert fault.fired == 0


def test_token_endpoint_faults_reach_the_auth_client(globus: Globus) -> None:
    globus.sim.add_fault("http:route=oauth2_token,status=503,count=1")
    client = instant_backoff(globus.auth_client())
    tokens = client.oauth2_client_credentials_tokens(globus_sdk.TransferClient.scopes.all)
    assert tokens.by_resource_server


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope:x=1", "unknown fault kind 'nope'"),
        ("http:status", "is not key=value"),
        ("http:colour=red", "unknown setting 'colour'"),
        ("http:status=abc", "invalid value for 'status'"),
        ("http:status=200", "status must be an HTTP error status"),
        ("http:route=no_such_route", r"unknown route name 'no_such_route'.*get_task"),
        ("drop:route=get_task,service=gcs", r"unknown route name 'get_task'.*create_lan_secret"),
        ("http:service=ftp", r"unknown service 'ftp' \(known: auth, transfer, gcs\)"),
        ("http:method=FETCH", r"unknown method 'FETCH'"),
        ("latency:jitter=5", r"unknown setting 'jitter' for fault 'latency' \(known: .*jitter_ms"),
        ("timeout:ms=-1", "ms must be >= 0"),
        ("slicer:average_size=8,size_variation=8", "size_variation < average_size"),
        ("limit_data:bytes=-5", "bytes must be >= 0"),
        ("nope:x=1", r"\(known: http, drop, latency, bandwidth, slicer, reset_after, limit_data"),
    ],
)
def test_bad_fault_specs_say_why(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_fault_spec(spec)


def test_fault_json_round_trip() -> None:
    from orbit_sim.faults import fault_from_json

    fault = parse_fault_spec("http:route=get_task,status=429,retry_after=2,count=3,probability=0.5")
    again = fault_from_json(fault.to_json())
    assert again == fault
    assert again.to_json()["kind"] == "http"
