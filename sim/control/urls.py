"""Control API routes: the one place where every control route module is registered.

The control API (`$ORBIT_SIM_URL`, `/control/...` on the loopback server) takes no bearer
tokens: it is the loopback-only developer and test controls, kept apart from the faked
Globus APIs. A route module has `register(router: Router) -> None`, which adds its
handlers with `router.add(..., auth=False)`; handlers are `handler(sim, request) ->
Response | dict`, each a thin wrapper over a Simulator method of the same name, which
`orbit_sim.control.SimControl` mirrors.

To add a module: import it below and append it to ROUTE_MODULES (one line each).
"""

from __future__ import annotations

from types import ModuleType

from orbit_sim.control import responses as simulator_controls
from orbit_sim.core.http import Router
from orbit_sim.services.transfer import control as transfer_data_controls

ROUTE_MODULES: list[ModuleType] = [
    simulator_controls,  # state, clock, tunnels, LAN secrets, tokens, clients, faults, reset
    transfer_data_controls,  # files into collections, collection quotas, task rates
]


def build_router() -> Router:
    router = Router()
    for module in ROUTE_MODULES:
        module.register(router)
    guarded = [f"{r.method} {r.pattern}" for r in router.routes if r.auth]
    if guarded:
        raise ValueError(f"control routes must not ask for a token: {', '.join(guarded)}")
    return router
