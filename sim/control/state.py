"""The simulator's state as the control API shows it (`GET /state`, `Simulator.state()`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


def state_document(sim: Simulator) -> dict[str, Any]:
    world = sim.world
    return {
        "clock": {"mode": sim.clock.mode, "now": sim.clock.now()},
        "tunnels": [
            {"id": t.id, "state": t.state, "owner": t.owner_id}
            for t in sim.transfer.tunnels.values()
        ],
        "faults": [f.to_json() for f in sim.list_faults()],
        "world": None
        if world is None
        else {
            "client_id": world.client_id,
            "user_id": world.user_id,
            "native_client_id": world.native_client_id,
            "endpoints": [
                {"id": e.id, "gcs_address": e.gcs_address, "access_points": e.access_point_ids}
                for e in world.endpoints
            ],
            "initiator_ap": world.initiator_ap_id,
            "listener_ap": world.listener_ap_id,
            "collections": list(world.collections),
        },
    }
