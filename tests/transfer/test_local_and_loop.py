""" "local" through the whole stack, and Globus calls that never block the event loop."""

from __future__ import annotations

import threading

import pytest

from orbit_globus.endpoint.app import build_app
from orbit_globus.endpoint.client import EndpointClient
from orbit_globus.endpoint.server import ThreadedHost
from orbit_globus.transfer.local_collection import ENV_VAR
from orbit_globus.transfer.plugin import Plugin

from .conftest import POLL_INTERVAL, fast_retries
from .simenv import GODATA
from .test_local_collection import install_config, install_gcp


def configure_by_env(home, collection, monkeypatch):
    monkeypatch.setenv(ENV_VAR, collection)


def configure_by_gcp(home, collection, monkeypatch):
    install_gcp(home, collection)


def configure_by_file(home, collection, monkeypatch):
    install_config(home, collection)


@pytest.mark.parametrize("configure", [configure_by_env, configure_by_gcp, configure_by_file])
def test_local_resolves_through_the_stack(simenv, isolated_home, monkeypatch, configure):
    configure(isolated_home, simenv.tutorial_1, monkeypatch)
    plugin = Plugin(poll_interval=POLL_INTERVAL, retry_config=fast_retries())
    with ThreadedHost(build_app([plugin])) as host, EndpointClient(host.url) as endpoint:
        globus = endpoint.get_plugin("globus")
        reply = globus.register_session(access_token=simenv.user_tokens()["access_token"])
        assert reply["local_collection"] == simenv.tutorial_1
        assert globus.get_endpoint()["id"] == simenv.tutorial_1  # omitted = local
        assert len(globus.ls("local", GODATA)) == 3
        submitted = globus.submit_transfer(
            "local",
            simenv.tutorial_2,
            [{"source": f"{GODATA}/file3.txt", "destination": "/~/from-local.txt"}],
        )
        simenv.control.advance(5)
        assert globus.task_wait(submitted["task_id"], timeout=20, polling_interval=0.1)
        assert globus.get_task(submitted["task_id"])["source_endpoint_id"] == simenv.tutorial_1


def test_a_session_override_beats_the_discovered_collection(simenv, monkeypatch, new_client):
    monkeypatch.setenv(ENV_VAR, simenv.tutorial_1)
    globus = new_client().get_plugin("globus")
    globus.register_session(
        access_token=simenv.user_tokens()["access_token"], local_collection=simenv.tutorial_2
    )
    assert globus.get_endpoint("local")["id"] == simenv.tutorial_2


def test_a_slow_globus_call_does_not_stall_other_clients(simenv, new_client):
    """While one session's ls hangs inside globus-sdk, another client is still served."""
    entered, release = threading.Event(), threading.Event()
    real_handle = simenv.sim.handle

    def slow_ls(request):
        if request.path.endswith("/ls"):
            entered.set()
            release.wait(20)
        return real_handle(request)

    simenv.sim.handle = slow_ls
    slow = new_client().get_plugin("globus")
    slow.register_session(access_token=simenv.user_tokens()["access_token"])
    quick = new_client().get_plugin("globus")
    quick.register_session(access_token=simenv.user_tokens()["access_token"])
    listing: list = []
    worker = threading.Thread(target=lambda: listing.append(slow.ls(simenv.tutorial_1, GODATA)))
    worker.start()
    try:
        assert entered.wait(10)
        # served while the ls is still held inside the simulator
        assert quick.get_endpoint(simenv.tutorial_2)["id"] == simenv.tutorial_2
        assert quick._fetch_events(0, 0.0)["events"] == []
        assert not release.is_set() and listing == []
    finally:
        release.set()
        worker.join(20)
        simenv.sim.handle = real_handle
    assert len(listing[0]) == 3
