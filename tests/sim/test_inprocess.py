"""The in-process adapter: context manager and decorator forms, and what it intercepts."""

from __future__ import annotations

import globus_sdk
import pytest
import requests

from orbit_sim import Simulator, mock_globus, serve

mocked = mock_globus()


@mocked
def test_decorator_form_gives_a_fresh_default_simulator() -> None:
    sim = mocked.sim
    assert sim is not None
    world = sim.world
    auth = globus_sdk.ConfidentialAppAuthClient(world.client_id, world.client_secret)
    tokens = auth.oauth2_client_credentials_tokens(globus_sdk.TransferClient.scopes.all)
    assert "transfer.api.globus.org" in tokens.by_resource_server


def test_unknown_globus_paths_are_globus_404s() -> None:
    with mock_globus():
        reply = requests.get("https://transfer.api.globus.org/v0.10/no/such/thing", timeout=5)
    assert reply.status_code == 404 and reply.json()["code"] == "ClientError.NotFound"


def test_loopback_passes_through_and_other_hosts_are_refused() -> None:
    sim = Simulator()
    handle = serve(sim)
    try:
        with mock_globus(sim):
            assert requests.get(handle.control_url + "/clock", timeout=5).status_code == 200
            with pytest.raises(requests.ConnectionError):
                requests.get("https://example.org/", timeout=5)
    finally:
        handle.stop()
        sim.close()


def test_mock_is_gone_after_the_block() -> None:
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send
    sim = Simulator()
    with mock_globus(sim) as active:
        assert active is sim
        assert HTTPAdapter.send is not original
    assert HTTPAdapter.send is original
    assert sim.world is not None  # a simulator passed in is left to its owner
    sim.close()
