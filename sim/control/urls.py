"""Control API routes: generated from the one table in `api.py`.

The control API (`$ORBIT_SIM_URL`, `/control/...` on the loopback server) takes no bearer
tokens: it is the loopback-only developer and test controls, kept apart from the faked
Globus APIs. To add an operation, give the Simulator a method and `api.CONTROL_API` a row.
"""

from __future__ import annotations

from orbit_sim.control import api
from orbit_sim.core.http import Router


def build_router() -> Router:
    router = Router()
    api.register(router)
    return router
