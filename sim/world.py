"""The default world every Simulator starts with.

Two GCS endpoints, each with one stream access point (an initiator-side and a
listener-side one), a default confidential client (client credentials, like a service
account), a user identity with a native app (for refresh-token logins), and whatever the
Transfer seeds (`TransferBackend.seed_world`: the tutorial collections with their files).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orbit_sim.services.transfer.models import StreamAccessPoint

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator
    from orbit_sim.services.gcs.models import GcsEndpoint


@dataclass
class World:
    client_id: str
    client_secret: str = field(repr=False)
    user_id: str
    native_client_id: str
    endpoints: list[GcsEndpoint]
    initiator_ap_id: str
    listener_ap_id: str
    # Collection ids seeded by the transfer-data modules (first two go in the env file).
    collections: list[str] = field(default_factory=list)


def _access_point(
    sim: Simulator, endpoint: GcsEndpoint, display_name: str, owner: str, ap_id: str | None
) -> StreamAccessPoint:
    short = endpoint.id[:5]
    access_point = StreamAccessPoint(
        id=ap_id or str(uuid.uuid4()),
        display_name=display_name,
        host_endpoint_id=endpoint.id,
        advertised_owner=owner,
        tlsftp_server=f"tlsftp://s-{short}.{endpoint.domain}:443",
        lan_auth=sim.lan_auth,
        description=f"Simulated stream access point on {endpoint.display_name}",
    )
    endpoint.access_point_ids.append(access_point.id)
    return sim.transfer.add_access_point(access_point)


def build_default_world(sim: Simulator, previous: World | None = None) -> World:
    """Build the default world; with `previous` (a reset), keep its ids and secrets.

    Keeping ids means an env file written before `reset` stays valid, and a loopback
    server keeps serving each endpoint's GCS Manager on the same port.
    """
    client, secret = sim.auth.create_confidential_client(
        "orbit-sim default client",
        client_id=previous.client_id if previous else None,
        secret=previous.client_secret if previous else None,
    )
    user = sim.auth.create_identity(
        "user@orbit-sim.example",
        name="Orbit Sim User",
        email="user@orbit-sim.example",
        identity_id=previous.user_id if previous else None,
    )
    native = sim.auth.create_native_client(
        "orbit-sim native app", client_id=previous.native_client_id if previous else None
    )
    owner = "admin@orbit-sim.example"
    endpoints = []
    for index in (1, 2):
        old = previous.endpoints[index - 1] if previous else None
        endpoint = sim.gcs.add_endpoint(
            f"orbit-sim endpoint {index}", owner_id=user.id, endpoint_id=old.id if old else None
        )
        endpoint.served_address = old.served_address if old else None
        endpoints.append(endpoint)
    initiator = _access_point(
        sim,
        endpoints[0],
        "orbit-sim access point 1 (initiator)",
        owner,
        previous.initiator_ap_id if previous else None,
    )
    listener = _access_point(
        sim,
        endpoints[1],
        "orbit-sim access point 2 (listener)",
        owner,
        previous.listener_ap_id if previous else None,
    )
    world = World(
        client_id=client.id,
        client_secret=secret,
        user_id=user.id,
        native_client_id=native.id,
        endpoints=endpoints,
        initiator_ap_id=initiator.id,
        listener_ap_id=listener.id,
    )
    sim.transfer.seed_world(world)
    return world
