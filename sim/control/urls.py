"""Control API routes (no bearer tokens: loopback-only developer and test controls)."""

from __future__ import annotations

from orbit_sim.control import responses as r
from orbit_sim.core.http import Router


def build_router() -> Router:
    router = Router()
    routes = [
        ("GET", "/state", r.get_state),
        ("GET", "/clock", r.get_clock),
        ("POST", "/clock/advance", r.advance_clock),
        ("POST", "/tunnels/{tunnel_id}/stop", r.tunnel_action("stop")),
        ("POST", "/tunnels/{tunnel_id}/restart", r.tunnel_action("restart")),
        ("POST", "/tunnels/{tunnel_id}/expire", r.tunnel_action("expire")),
        ("POST", "/lan_secrets/{secret_id}/revoke", r.revoke_secret),
        ("POST", "/tokens/expire", r.expire_tokens),
        ("POST", "/tokens", r.issue_tokens),
        ("POST", "/clients", r.create_client),
        ("GET", "/faults", r.list_faults),
        ("POST", "/faults", r.add_fault),
        ("DELETE", "/faults", r.clear_faults),
        ("DELETE", "/faults/{fault_id}", r.remove_fault),
        ("POST", "/reset", r.reset),
    ]
    for method, pattern, handler in routes:
        router.add(method, pattern, handler, auth=False)
    return router
