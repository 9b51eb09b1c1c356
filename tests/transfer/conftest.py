"""Fixtures: an endpoint host with the globus plugin, served on loopback in a thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from globus_sdk.transport import RetryConfig

from orbit_globus.endpoint.app import build_app
from orbit_globus.endpoint.client import EndpointClient
from orbit_globus.endpoint.server import ThreadedHost
from orbit_globus.transfer.plugin import Plugin

ROOT = Path(__file__).resolve().parents[2]

# The transfer_status payload the orbit plugin documents (written out, not imported).
NOTIFICATION_FIELDS = {
    "task_id",
    "status",
    "label",
    "bytes_transferred",
    "files_transferred",
    "nice_status",
}

# Notifications follow task changes within this many (real) seconds.
POLL_INTERVAL = 0.2


def fast_retries() -> RetryConfig:
    """The SDK's retries with short sleeps, so simulated 503s and drops keep tests quick."""
    return RetryConfig(max_retries=4, max_sleep=0.05, backoff=lambda _ctx: 0.01)


@pytest.fixture
def plugin() -> Plugin:
    return Plugin(poll_interval=POLL_INTERVAL, retry_config=fast_retries())


@pytest.fixture
def endpoint_url(plugin: Plugin) -> Iterator[str]:
    host = ThreadedHost(build_app([plugin])).start()
    try:
        yield host.url
    finally:
        host.stop()


@pytest.fixture
def new_client(endpoint_url: str) -> Iterator[Callable[[], EndpointClient]]:
    """Make EndpointClients for the running host; all are closed at the end."""
    made: list[EndpointClient] = []

    def make() -> EndpointClient:
        client = EndpointClient(endpoint_url, timeout=30)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            client.close()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test sees the developer's GCP install, config file or collection variable."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("RADICAL_ORBIT_GLOBUS_COLLECTION", raising=False)
    return home


@pytest.fixture
def simenv(monkeypatch: pytest.MonkeyPatch):
    """The simulator on loopback; globus-sdk in this process points at it."""
    from .simenv import start_sim

    yield from start_sim(monkeypatch)


@pytest.fixture
def globus(simenv, new_client):
    """A GlobusClient with a session on the default user's plain access token."""
    client = new_client().get_plugin("globus")
    client.register_session(
        access_token=simenv.user_tokens()["access_token"], local_collection=simenv.tutorial_2
    )
    yield client
    client.close()
