"""Transfer API routes: the one place where every Transfer route module is registered.

A route module has `register(router: Router) -> None`, which adds its handlers with
`router.route(...)`. Handlers are `handler(sim, request) -> Response | dict`; the bearer
token has been checked already (`request.token` is the caller's Token, its identity
`request.token.identity_id`). State lives in `sim.transfer` (models.py), time-driven
changes in `TransferBackend.tick`.

To add a module: import it below and append it to ROUTE_MODULES (one line each).
"""

from __future__ import annotations

from types import ModuleType

from orbit_sim.core.http import Router
from orbit_sim.services.transfer import data_routes
from orbit_sim.services.transfer import responses as tunnels_and_access_points

ROUTE_MODULES: list[ModuleType] = [
    tunnels_and_access_points,  # /v2/tunnels, /v2/stream_access_points
    data_routes,  # endpoints, collections, operation_*, tasks (see data_routes.py)
]


def build_router() -> Router:
    router = Router()
    for module in ROUTE_MODULES:
        module.register(router)
    return router
