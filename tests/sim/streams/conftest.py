"""A simulator whose tunnels carry bytes, and tunnels wired to a listening application."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from orbit_globus.lan import Credential
from orbit_sim import Simulator
from orbit_sim.services.transfer.models import Tunnel
from orbit_sim.streams import StreamGateway

from .apps import ListenerApp


@dataclass
class TunnelRig:
    """One ACTIVE tunnel with both LAN secrets and its listening application."""

    sim: Simulator
    tunnel: Tunnel
    initiator: Credential
    listener: Credential
    app: ListenerApp

    @property
    def id(self) -> str:
        return self.tunnel.id

    @property
    def address(self) -> tuple[str, int]:
        assert self.tunnel.initiator_port is not None, f"tunnel is {self.tunnel.state}"
        return "127.0.0.1", self.tunnel.initiator_port


class StreamWorld:
    def __init__(self, sim: Simulator, gateway: StreamGateway) -> None:
        self.sim = sim
        self.gateway = gateway
        self.world = sim.world
        self._apps: list[ListenerApp] = []

    def new_secret(self, tunnel: Tunnel, side: str) -> Credential:
        endpoint = self.world.endpoints[0 if side == "initiator" else 1]
        ap_id = tunnel.initiator_ap_id if side == "initiator" else tunnel.listener_ap_id
        with self.sim.lock:
            secret = self.sim.gcs.create_lan_secret(
                endpoint.id, self.world.user_id, tunnel.id, ap_id
            )
        return Credential(secret.secret, __import__("uuid").UUID(secret.id))

    def tunnel(self, app: ListenerApp | None = None, **options: object) -> TunnelRig:
        """A tunnel whose listener contact is `app` (an echo app by default)."""
        with self.sim.lock:
            tunnel = self.sim.transfer.create_tunnel(
                self.world.user_id,
                self.world.initiator_ap_id,
                self.world.listener_ap_id,
                **options,  # type: ignore[arg-type]
            )
        initiator = self.new_secret(tunnel, "initiator")
        listener = self.new_secret(tunnel, "listener")
        if app is None:
            app = ListenerApp()
        if app.tunnel_id is None:
            app.tunnel_id = tunnel.id
        if app.credential is None and self.lan_auth(tunnel.listener_ap_id):
            app.credential = listener
        app.__enter__()
        self._apps.append(app)
        with self.sim.lock:
            self.sim.transfer.set_listener_contact(tunnel, *app.address)
        return TunnelRig(self.sim, tunnel, initiator, listener, app)

    def lan_auth(self, access_point_id: str) -> bool:
        return self.sim.transfer.access_points[access_point_id].lan_auth

    def close(self) -> None:
        for app in self._apps:
            app.__exit__(None, None, None)


def _stream_world(
    wan_tls: bool, lan_auth: bool = True, native: bool = True
) -> Iterator[StreamWorld]:
    gateway = StreamGateway(wan_tls=wan_tls, native_relays=native)
    sim = Simulator("virtual", gateway=gateway, lan_auth=lan_auth)
    gateway.bind(sim)
    world = StreamWorld(sim, gateway)
    try:
        yield world
    finally:
        world.close()
        sim.close()
        gateway.shutdown()


# For tests that shut the gateway down themselves (a second shutdown does nothing).
own_stream_world = contextlib.contextmanager(_stream_world)


@pytest.fixture(params=[True, False], ids=["tls", "plain"])
def streams(request: pytest.FixtureRequest) -> Iterator[StreamWorld]:
    """A simulator with a real gateway, WAN leg over TLS and plain."""
    yield from _stream_world(wan_tls=request.param)


@pytest.fixture
def tls_streams() -> Iterator[StreamWorld]:
    yield from _stream_world(wan_tls=True)


@pytest.fixture
def python_tls_streams() -> Iterator[StreamWorld]:
    """WAN leg over TLS, every relay in Python (the native relay loop switched off)."""
    yield from _stream_world(wan_tls=True, native=False)


@pytest.fixture
def plain_streams() -> Iterator[StreamWorld]:
    """WAN leg in plain TCP (speed-test mode)."""
    yield from _stream_world(wan_tls=False)


@pytest.fixture
def open_streams() -> Iterator[StreamWorld]:
    """LAN authentication disabled on both access points."""
    yield from _stream_world(wan_tls=True, lan_auth=False)
