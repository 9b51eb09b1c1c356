"""Fixtures: a simulator on a virtual clock and unmodified TransferClients that reach it
in-process (`mock_globus`) or over the loopback server, logged in with client credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import globus_sdk
import pytest
from globus_sdk.scopes import TransferScopes

import orbit_sim
from orbit_sim.inprocess import mock_globus
from orbit_sim.services.transfer.collections import Collection, TransferData


@dataclass
class Harness:
    """One simulator reached through one transport, with helpers to make SDK clients."""

    sim: orbit_sim.Simulator
    transport: str
    auth_url: str | None = None
    transfer_url: str | None = None
    control_url: str | None = None

    @property
    def data(self) -> TransferData:
        return self.sim.transfer.data

    @property
    def collection_1(self) -> str:
        return str(self.sim.world.collections[0])

    @property
    def collection_2(self) -> str:
        return str(self.sim.world.collections[1])

    def collection(self, collection_id: str) -> Collection:
        return self.data.collections[collection_id]

    def transfer_client(
        self,
        client_id: str | None = None,
        secret: str | None = None,
        scopes: str | None = None,
    ) -> globus_sdk.TransferClient:
        """A TransferClient logged in with the client-credentials grant through the SDK."""
        world = self.sim.world
        auth = globus_sdk.ConfidentialAppAuthClient(
            client_id or world.client_id,
            secret or world.client_secret,
            **({"base_url": self.auth_url} if self.auth_url else {}),
        )
        tokens = auth.oauth2_client_credentials_tokens(
            requested_scopes=scopes or TransferScopes.all
        )
        access = tokens.by_resource_server["transfer.api.globus.org"]["access_token"]
        return globus_sdk.TransferClient(
            authorizer=globus_sdk.AccessTokenAuthorizer(access),
            **({"base_url": self.transfer_url} if self.transfer_url else {}),
        )

    def other_identity_client(self) -> globus_sdk.TransferClient:
        client, secret = self.sim.auth.create_confidential_client("another service account")
        return self.transfer_client(client.id, secret)


@contextmanager
def _harness(transport: str) -> Iterator[Harness]:
    sim = orbit_sim.Simulator(clock="virtual")
    try:
        if transport == "inprocess":
            with mock_globus(sim):
                yield Harness(sim, "inprocess")
            return
        server = orbit_sim.serve(sim)
        try:
            env = server.env
            yield Harness(
                sim,
                "loopback",
                auth_url=env["GLOBUS_SDK_SERVICE_URL_AUTH"],
                transfer_url=env["GLOBUS_SDK_SERVICE_URL_TRANSFER"],
                control_url=env["ORBIT_SIM_URL"],
            )
        finally:
            server.stop()
    finally:
        sim.close()


@pytest.fixture(params=["inprocess", "loopback"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with _harness(request.param) as made:
        yield made


@pytest.fixture
def loopback() -> Iterator[Harness]:
    """Over the loopback server only (its control API included)."""
    with _harness("loopback") as made:
        yield made


@pytest.fixture
def inprocess() -> Iterator[Harness]:
    """In-process only, for tests whose point is not the transport."""
    with _harness("inprocess") as made:
        yield made


@pytest.fixture
def tc(harness: Harness) -> globus_sdk.TransferClient:
    return harness.transfer_client()


class ClockPump:
    """Advances a virtual clock from a thread, so real-time waiting (task_wait) sees time pass."""

    def __init__(self, sim: orbit_sim.Simulator, step: float, every: float) -> None:
        self._sim = sim
        self._step = step
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clock-pump", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sim.advance(self._step)

    def __enter__(self) -> ClockPump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
