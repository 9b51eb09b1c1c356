"""The default world every Simulator starts with.

Two GCS endpoints, each with one stream access point (an initiator-side and a
listener-side one), a default confidential client (client credentials, like a service
account), a user identity with a native app (for refresh-token logins), and whatever the
Transfer route modules seed (tutorial collections with files: engineer C's `seed_world`).
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
    sim: Simulator, endpoint: GcsEndpoint, display_name: str, owner: str
) -> StreamAccessPoint:
    short = endpoint.id[:5]
    access_point = StreamAccessPoint(
        id=str(uuid.uuid4()),
        display_name=display_name,
        host_endpoint_id=endpoint.id,
        advertised_owner=owner,
        tlsftp_server=f"tlsftp://s-{short}.{endpoint.domain}:443",
        lan_auth=sim.lan_auth,
        description=f"Simulated stream access point on {endpoint.display_name}",
    )
    endpoint.access_point_ids.append(access_point.id)
    return sim.transfer.add_access_point(access_point)


def build_default_world(sim: Simulator) -> World:
    client, secret = sim.auth.create_confidential_client("orbit-sim default client")
    user = sim.auth.create_identity(
        "user@orbit-sim.example", name="Orbit Sim User", email="user@orbit-sim.example"
    )
    native = sim.auth.create_native_client("orbit-sim native app")
    owner = "admin@orbit-sim.example"
    first = sim.gcs.add_endpoint("orbit-sim endpoint 1", owner_id=user.id)
    second = sim.gcs.add_endpoint("orbit-sim endpoint 2", owner_id=user.id)
    initiator = _access_point(sim, first, "orbit-sim access point 1 (initiator)", owner)
    listener = _access_point(sim, second, "orbit-sim access point 2 (listener)", owner)
    world = World(
        client_id=client.id,
        client_secret=secret,
        user_id=user.id,
        native_client_id=native.id,
        endpoints=[first, second],
        initiator_ap_id=initiator.id,
        listener_ap_id=listener.id,
    )
    for module in sim.transfer.route_modules:
        seed = getattr(module, "seed_world", None)
        if seed is not None:
            seed(sim, world)
    return world
