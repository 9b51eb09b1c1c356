"""The simulator's own control routes: each handler is a thin wrapper over a Simulator
method (state, clock, tunnels, LAN secrets, tokens, clients, faults, reset)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import BadRequest, NotFound, Request, Router
from orbit_sim.faults import fault_from_json, parse_fault_spec

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


def _body(request: Request) -> dict[str, Any]:
    return request.json_object() if request.body else {}


def get_state(sim: Simulator, request: Request) -> dict[str, Any]:
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


def advance_clock(sim: Simulator, request: Request) -> dict[str, Any]:
    seconds = _body(request).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise BadRequest("'seconds' must be a number >= 0")
    return {"now": sim.advance(float(seconds)), "mode": sim.clock.mode}


def get_clock(sim: Simulator, request: Request) -> dict[str, Any]:
    return {"now": sim.clock.now(), "mode": sim.clock.mode}


def tunnel_action(action: str) -> Callable[[Simulator, Request], dict[str, Any]]:
    """A handler for one of the Simulator's `<action>_tunnel` methods."""

    def handler(sim: Simulator, request: Request) -> dict[str, Any]:
        tunnel_id = request.params["tunnel_id"]
        getattr(sim, f"{action}_tunnel")(tunnel_id)
        tunnel = sim.transfer.get_tunnel(tunnel_id)
        return {"id": tunnel.id, "state": tunnel.state, "initiator_port": tunnel.initiator_port}

    handler.__name__ = f"control_{action}_tunnel"
    return handler


def revoke_secret(sim: Simulator, request: Request) -> dict[str, Any]:
    if not sim.revoke_secret(request.params["secret_id"]):
        raise NotFound("No such LAN secret")
    return {"revoked": True}


def expire_tokens(sim: Simulator, request: Request) -> dict[str, Any]:
    return {"expired": sim.expire_tokens(_body(request).get("identity_id"))}


def issue_tokens(sim: Simulator, request: Request) -> dict[str, Any]:
    """Mint tokens as an interactive login would (identity + native client, with refresh)."""
    body = _body(request)
    scopes = body.get("scopes")
    if not isinstance(scopes, str | list) or not scopes:
        raise BadRequest("'scopes' is required")
    try:
        return sim.issue_tokens(scopes, body.get("identity_id"), body.get("client_id"))
    except ValueError as err:
        raise BadRequest(str(err)) from None


def create_client(sim: Simulator, request: Request) -> dict[str, Any]:
    """A new confidential client (a second identity for isolation tests)."""
    return sim.create_client(str(_body(request).get("name") or "orbit-sim extra client"))


def list_faults(sim: Simulator, request: Request) -> dict[str, Any]:
    return {"faults": [f.to_json() for f in sim.list_faults()]}


def add_fault(sim: Simulator, request: Request) -> dict[str, Any]:
    body = _body(request)
    try:
        fault = parse_fault_spec(body["spec"]) if "spec" in body else fault_from_json(body)
    except (ValueError, TypeError) as err:
        raise BadRequest(str(err)) from None
    return sim.add_fault(fault).to_json()


def remove_fault(sim: Simulator, request: Request) -> dict[str, Any]:
    if not sim.remove_fault(request.params["fault_id"]):
        raise NotFound("No such fault")
    return {"removed": True}


def clear_faults(sim: Simulator, request: Request) -> dict[str, Any]:
    sim.clear_faults()
    return {"faults": []}


def reset(sim: Simulator, request: Request) -> dict[str, Any]:
    sim.reset()
    return get_state(sim, request)


def register(router: Router) -> None:
    routes = [
        ("GET", "/state", get_state),
        ("GET", "/clock", get_clock),
        ("POST", "/clock/advance", advance_clock),
        ("POST", "/tunnels/{tunnel_id}/stop", tunnel_action("stop")),
        ("POST", "/tunnels/{tunnel_id}/restart", tunnel_action("restart")),
        ("POST", "/tunnels/{tunnel_id}/expire", tunnel_action("expire")),
        ("POST", "/lan_secrets/{secret_id}/revoke", revoke_secret),
        ("POST", "/tokens/expire", expire_tokens),
        ("POST", "/tokens", issue_tokens),
        ("POST", "/clients", create_client),
        ("GET", "/faults", list_faults),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", clear_faults),
        ("DELETE", "/faults/{fault_id}", remove_fault),
        ("POST", "/reset", reset),
    ]
    for method, pattern, handler in routes:
        router.add(method, pattern, handler, auth=False)
