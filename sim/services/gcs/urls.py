"""GCS Manager routes (under /api/, as globus-sdk's GCSClient addresses them)."""

from __future__ import annotations

from orbit_sim.core.http import Router
from orbit_sim.services.gcs import responses


def build_router() -> Router:
    router = Router()
    router.add("GET", "/api/info", responses.get_info, auth=False)
    router.add("POST", "/api/lan_secrets", responses.create_lan_secret)
    router.add("DELETE", "/api/lan_secrets/{secret_id}", responses.delete_lan_secret)
    return router
