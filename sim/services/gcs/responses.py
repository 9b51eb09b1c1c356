"""GCS Manager handlers: POST /api/lan_secrets, DELETE /api/lan_secrets/{id}."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import Request
from orbit_sim.services.gcs.exceptions import GcsBadRequest, GcsNotFound
from orbit_sim.services.gcs.models import LanSecret
from orbit_sim.services.transfer.models import iso_time

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

CREATE_TYPE = "lan_secret_create#1.0.0"


def result(data: list[dict[str, Any]], status: int = 200) -> dict[str, Any]:
    return {
        "DATA_TYPE": "result#1.0.0",
        "code": "success",
        "detail": "success",
        "http_response_code": status,
        "has_next_page": False,
        "data": data,
    }


def secret_doc(lan_secret: LanSecret, *, with_secret: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "DATA_TYPE": "lan_secret#1.0.0",
        "id": lan_secret.id,
        "tunnel_id": lan_secret.tunnel_id,
        "stream_access_point_id": lan_secret.access_point_id,
        "created": iso_time(lan_secret.created),
    }
    if with_secret:
        doc["secret"] = lan_secret.secret
    return doc


def _endpoint_id(sim: Simulator, request: Request) -> str:
    if request.endpoint_id is None or request.endpoint_id not in sim.gcs.endpoints:
        raise GcsNotFound("No GCS endpoint at this address")
    return request.endpoint_id


def create_lan_secret(sim: Simulator, request: Request) -> dict[str, Any]:
    body = request.json_object()
    if body.get("DATA_TYPE", CREATE_TYPE) != CREATE_TYPE:
        raise GcsBadRequest(f"DATA_TYPE must be {CREATE_TYPE}")
    tunnel_id = body.get("tunnel_id")
    access_point_id = body.get("stream_access_point_id")
    if not isinstance(tunnel_id, str) or not isinstance(access_point_id, str):
        raise GcsBadRequest("tunnel_id and stream_access_point_id are required strings")
    assert request.token is not None
    lan_secret = sim.gcs.create_lan_secret(
        _endpoint_id(sim, request), request.token.identity_id, tunnel_id, access_point_id
    )
    return result([secret_doc(lan_secret, with_secret=True)])


def delete_lan_secret(sim: Simulator, request: Request) -> dict[str, Any]:
    assert request.token is not None
    sim.gcs.delete_lan_secret(
        _endpoint_id(sim, request), request.token.identity_id, request.params["secret_id"]
    )
    return result([])


def get_info(sim: Simulator, request: Request) -> dict[str, Any]:
    """GET /api/info: who this GCS Manager is (no token needed, as on real GCS)."""
    endpoint = sim.gcs.endpoints[_endpoint_id(sim, request)]
    return result(
        [
            {
                "DATA_TYPE": "info#1.0.0",
                "endpoint_id": endpoint.id,
                "display_name": endpoint.display_name,
                "domain_name": endpoint.domain,
                "api_version": "1.31.0",
                "manager_version": "5.4.80",
            }
        ]
    )
