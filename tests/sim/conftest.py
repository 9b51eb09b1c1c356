"""Fixtures for the simulator platform tests: the same test runs in-process and over
loopback (`mode`), always through unmodified globus-sdk clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import globus_sdk
import pytest

from orbit_sim import Simulator, mock_globus, serve
from orbit_sim.server import ServerHandle

TRANSFER_RS = "transfer.api.globus.org"
SDK_ENV = (
    "GLOBUS_SDK_ENVIRONMENT",
    "GLOBUS_SDK_SERVICE_URL_AUTH",
    "GLOBUS_SDK_SERVICE_URL_TRANSFER",
    "GLOBUS_SDK_VERIFY_SSL",
)


@dataclass
class Identity:
    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class Globus:
    """A simulator plus helpers that build real globus-sdk clients against it."""

    sim: Simulator
    mode: str
    server: ServerHandle | None = None

    @property
    def default(self) -> Identity:
        return Identity(self.sim.world.client_id, self.sim.world.client_secret)

    def new_identity(self, name: str = "second client") -> Identity:
        created = self.sim.create_client(name)
        return Identity(created["client_id"], created["client_secret"])

    def auth_client(self, identity: Identity | None = None) -> globus_sdk.ConfidentialAppAuthClient:
        who = identity or self.default
        return globus_sdk.ConfidentialAppAuthClient(who.client_id, who.client_secret)

    def tokens(self, scopes: list[str], identity: Identity | None = None) -> dict[str, Any]:
        response = self.auth_client(identity).oauth2_client_credentials_tokens(scopes)
        return dict(response.by_resource_server)

    def transfer_authorizer(
        self, identity: Identity | None = None
    ) -> globus_sdk.ClientCredentialsAuthorizer:
        return globus_sdk.ClientCredentialsAuthorizer(
            self.auth_client(identity), globus_sdk.TransferClient.scopes.all
        )

    def transfer(self, identity: Identity | None = None) -> globus_sdk.TransferClient:
        return globus_sdk.TransferClient(authorizer=self.transfer_authorizer(identity))

    def transfer_v2(self, identity: Identity | None = None) -> Any:
        from globus_sdk.experimental import TransferClientV2

        return TransferClientV2(authorizer=self.transfer_authorizer(identity))

    def gcs(
        self, endpoint_index: int = 0, identity: Identity | None = None
    ) -> globus_sdk.GCSClient:
        endpoint = self.sim.world.endpoints[endpoint_index]
        scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(endpoint.id).manage_collections
        authorizer = globus_sdk.ClientCredentialsAuthorizer(self.auth_client(identity), scope)
        return globus_sdk.GCSClient(endpoint.gcs_address, authorizer=authorizer)


@pytest.fixture(params=["inprocess", "loopback"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def globus(mode: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Globus]:
    """A fresh virtual-clock simulator reached in-process or over the loopback server."""
    for key in SDK_ENV:
        monkeypatch.delenv(key, raising=False)
    sim = Simulator("virtual")
    try:
        if mode == "inprocess":
            with mock_globus(sim):
                yield Globus(sim, mode)
        else:
            handle = serve(sim)
            try:
                for key, value in handle.env.items():
                    monkeypatch.setenv(key, value)
                yield Globus(sim, mode, handle)
            finally:
                handle.stop()
    finally:
        sim.close()


def instant_backoff(client: globus_sdk.BaseClient) -> globus_sdk.BaseClient:
    """Retry without the exponential sleeps (an explicit Retry-After is still honoured)."""
    client.retry_config.backoff = lambda ctx: ctx.backoff or 0.0
    return client
