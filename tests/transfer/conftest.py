"""Fixtures: the simulator, a real radical.orbit broker + endpoint serving ``globus``, and
runtimes driving it. One deployment per test session (per xdist worker); every test opens
its own Globus session, so tests stay apart without restarting processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from radical.orbit import EndpointRuntime
from radical.orbit.plugin_globus import GlobusClient as TheirGlobusClient
from radical.orbit.runtime_client import _RuntimeHTTP

import orbit_globus.transfer  # noqa: F401 - registers our GlobusClient for get_plugin here
from orbit_globus.transfer import GlobusClient

from .orbit_stack import ENDPOINT, OrbitStack, orbit_stack
from .simenv import SimEnv, start_sim

ROOT = Path(__file__).resolve().parents[2]

# The transfer_status payload radical.orbit documents (written out, not imported).
NOTIFICATION_FIELDS = {
    "task_id",
    "status",
    "label",
    "bytes_transferred",
    "files_transferred",
    "nice_status",
}

# The endpoint's status poll interval (real seconds).
POLL_INTERVAL = 0.2


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test sees the developer's GCP install, config file or collection variable."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("RADICAL_ORBIT_GLOBUS_COLLECTION", raising=False)
    return home


@pytest.fixture(scope="session")
def simenv() -> Iterator[SimEnv]:
    """The simulator on loopback (virtual clock); globus-sdk in this process points at it."""
    with pytest.MonkeyPatch.context() as patch:
        yield from start_sim(patch)


@pytest.fixture(scope="session")
def orbit(simenv: SimEnv) -> Iterator[OrbitStack]:
    with orbit_stack(simenv.server.env, POLL_INTERVAL) as stack:
        yield stack


@pytest.fixture(scope="session")
def runtime(orbit: OrbitStack) -> EndpointRuntime:
    """A consumer runtime shared by the tests (each opens its own Globus sessions)."""
    return orbit.runtime()


@pytest.fixture
def new_runtime(orbit: OrbitStack) -> Iterator[Callable[[], EndpointRuntime]]:
    """Make extra consumer runtimes (other participants); all stop at the end."""
    made: list[EndpointRuntime] = []

    def make() -> EndpointRuntime:
        made.append(orbit.runtime())
        return made[-1]

    yield make
    for rt in made:
        orbit.close_runtime(rt)


@pytest.fixture
def open_globus(runtime: EndpointRuntime, simenv: SimEnv) -> Iterator[Callable[..., Any]]:
    """Open our GlobusClient on a runtime; every client is closed at the end."""
    made: list[Any] = []

    def open_(rt: EndpointRuntime | None = None, **credentials: Any) -> GlobusClient:
        if not credentials:
            credentials = {"access_token": simenv.user_tokens()["access_token"]}
        client = (rt or runtime).get_plugin(ENDPOINT, "globus", **credentials)
        assert isinstance(client, GlobusClient)
        made.append(client)
        return client

    yield open_
    for client in made:
        client.close()


@pytest.fixture
def globus(open_globus: Callable[..., GlobusClient], simenv: SimEnv) -> GlobusClient:
    """Our GlobusClient with a session on the default user's plain access token."""
    return open_globus(
        access_token=simenv.user_tokens()["access_token"], local_collection=simenv.tutorial_2
    )


def their_client(rt: EndpointRuntime) -> TheirGlobusClient:
    """radical.orbit's own GlobusClient, bound as its get_plugin binds it."""
    namespace = rt.topology()[ENDPOINT]["plugins"]["globus"]["namespace"]
    return TheirGlobusClient(
        _RuntimeHTTP(rt, ENDPOINT),
        namespace,
        broker_client=rt,
        endpoint_id=ENDPOINT,
        plugin_name="globus",
    )
