"""Transfer /v2 stream access point and tunnel handlers (JSON:API documents).

Documents carry every key of globus-sdk's testing fixtures (get_tunnel.py,
list_stream_access_points.py, get_tunnel_events.py, ...). Another identity's tunnel is
answered as not found, so ownership leaks nothing.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from orbit_sim.core.http import Request, Response, Router
from orbit_sim.services.transfer.exceptions import InvalidTunnelRequest
from orbit_sim.services.transfer.models import (
    STOPPED,
    STOPPING,
    StreamAccessPoint,
    Tunnel,
    TunnelEvent,
    iso_time,
)

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def jsonapi(request: Request, data: Any, *, links: dict[str, Any] | None = None) -> Response:
    doc: dict[str, Any] = {"data": data}
    if links is not None:
        doc["links"] = links
    doc["meta"] = {"request_id": request.request_id}
    return Response.json(doc)


def access_point_doc(access_point: StreamAccessPoint) -> dict[str, Any]:
    return {
        "attributes": {
            "advertised_owner": access_point.advertised_owner,
            "contact_email": access_point.contact_email,
            "contact_info": access_point.contact_info,
            "department": access_point.department,
            "description": access_point.description,
            "display_name": access_point.display_name,
            "info_link": access_point.info_link,
            "keywords": access_point.keywords,
            "organization": access_point.organization,
            "tlsftp_server": access_point.tlsftp_server,
        },
        "id": access_point.id,
        "relationships": {
            "host_endpoint": {"data": {"id": access_point.host_endpoint_id, "type": "Endpoint"}}
        },
        "type": "StreamAccessPoint",
    }


def tunnel_doc(tunnel: Tunnel) -> dict[str, Any]:
    return {
        "attributes": {
            "created_time": iso_time(tunnel.created_time),
            "initiator_ip_address": tunnel.initiator_ip_address,
            "initiator_port": tunnel.initiator_port,
            "label": tunnel.label,
            "lifetime_mins": tunnel.lifetime_mins,
            "listener_ip_address": tunnel.listener_ip_address,
            "listener_port": tunnel.listener_port,
            "restartable": tunnel.restartable,
            "state": tunnel.state,
            "status": tunnel.status,
            "submission_id": tunnel.submission_id,
        },
        "id": tunnel.id,
        "relationships": {
            "initiator": {"data": {"id": tunnel.initiator_ap_id, "type": "StreamAccessPoint"}},
            "listener": {"data": {"id": tunnel.listener_ap_id, "type": "StreamAccessPoint"}},
            "owner": {"data": {"id": tunnel.owner_id, "type": "Identity"}},
        },
        "type": "Tunnel",
    }


def event_doc(event: TunnelEvent) -> dict[str, Any]:
    return {
        "type": "TunnelEvent",
        "id": event.id,
        "attributes": {
            "code": event.code,
            "is_error": event.is_error,
            "description": event.description,
            "details": event.details,
            "time": iso_time(event.time),
        },
    }


def _identity(request: Request) -> str:
    assert request.token is not None  # routes here always require a token
    return request.token.identity_id


def _page(request: Request, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """One JSON:API page plus `links` whose `next` carries only query parameters."""
    size = request.int_arg("page[size]", DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    marker = request.arg("page[marker]")
    start = 0
    if marker:
        try:
            start = int(base64.urlsafe_b64decode(marker.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidTunnelRequest("Invalid page[marker]") from None
    page = items[start : start + size]
    links: dict[str, Any] = {"next": None}
    if start + size < len(items):
        params = {k: v[-1] for k, v in request.query.items() if k != "page[marker]"}
        params["page[size]"] = str(size)
        params["page[marker]"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        links["next"] = f"{request.path}?{urlencode(params)}"
    return page, links


# -- stream access points -------------------------------------------------------------------


def get_stream_access_point(sim: Simulator, request: Request) -> Response:
    access_point = sim.transfer.get_access_point(request.params["access_point_id"])
    return jsonapi(request, access_point_doc(access_point))


def list_stream_access_points(sim: Simulator, request: Request) -> Response:
    needle = (request.arg("filter[fulltext]") or request.arg("filter") or "").lower()
    access_points = [
        ap
        for ap in sim.transfer.access_points.values()
        if needle in f"{ap.display_name} {ap.description or ''} {ap.keywords or ''}".lower()
    ]
    page, links = _page(request, access_points)
    return jsonapi(request, [access_point_doc(ap) for ap in page], links=links)


# -- tunnels --------------------------------------------------------------------------------


def _relationship_id(data: dict[str, Any], name: str) -> str:
    try:
        ap_id = data["relationships"][name]["data"]["id"]
    except (KeyError, TypeError):
        raise InvalidTunnelRequest(f"relationships.{name}.data.id is required") from None
    if not isinstance(ap_id, str) or not ap_id:
        raise InvalidTunnelRequest(f"relationships.{name}.data.id must be a string")
    return ap_id


def _data_element(request: Request) -> dict[str, Any]:
    data = request.json_object().get("data")
    if not isinstance(data, dict):
        raise InvalidTunnelRequest("The request body needs a 'data' object")
    attributes = data.setdefault("attributes", {})
    if not isinstance(attributes, dict):
        raise InvalidTunnelRequest("'data.attributes' must be an object")
    return data


def create_tunnel(sim: Simulator, request: Request) -> Response:
    data = _data_element(request)
    attributes = data["attributes"]
    tunnel = sim.transfer.create_tunnel(
        _identity(request),
        _relationship_id(data, "initiator"),
        _relationship_id(data, "listener"),
        label=attributes.get("label"),
        lifetime_mins=attributes.get("lifetime_mins"),
        restartable=bool(attributes.get("restartable", False)),
        submission_id=attributes.get("submission_id"),
        listener_contact=(attributes.get("listener_ip_address"), attributes.get("listener_port"))
        if "listener_ip_address" in attributes or "listener_port" in attributes
        else None,
    )
    return jsonapi(request, tunnel_doc(tunnel))


def get_tunnel(sim: Simulator, request: Request) -> Response:
    tunnel = sim.transfer.get_tunnel(request.params["tunnel_id"], _identity(request))
    return jsonapi(request, tunnel_doc(tunnel))


def list_tunnels(sim: Simulator, request: Request) -> Response:
    tunnels = sim.transfer.list_tunnels(_identity(request))
    page, links = _page(request, tunnels)
    return jsonapi(request, [tunnel_doc(t) for t in page], links=links)


def update_tunnel(sim: Simulator, request: Request) -> Response:
    tunnel = sim.transfer.get_tunnel(request.params["tunnel_id"], _identity(request))
    attributes = _data_element(request)["attributes"]
    known = {"label", "lifetime_mins", "listener_ip_address", "listener_port", "state"}
    unknown = sorted(set(attributes) - known)
    if unknown:
        raise InvalidTunnelRequest(f"Attributes cannot be updated: {', '.join(unknown)}")
    if "label" in attributes:
        sim.transfer.set_label(tunnel, attributes["label"])
    if "lifetime_mins" in attributes:
        sim.transfer.set_lifetime(tunnel, attributes["lifetime_mins"])
    if "listener_ip_address" in attributes or "listener_port" in attributes:
        sim.transfer.set_listener_contact(
            tunnel, attributes.get("listener_ip_address"), attributes.get("listener_port")
        )
    if "state" in attributes:
        if attributes["state"] not in (STOPPING, STOPPED):
            raise InvalidTunnelRequest("state can only be set to STOPPING")
        sim.transfer.stop_tunnel(tunnel)
    return jsonapi(request, tunnel_doc(tunnel))


def delete_tunnel(sim: Simulator, request: Request) -> Response:
    tunnel = sim.transfer.get_tunnel(request.params["tunnel_id"], _identity(request))
    sim.transfer.delete_tunnel(tunnel)
    return jsonapi(request, None)


def get_tunnel_events(sim: Simulator, request: Request) -> Response:
    tunnel = sim.transfer.get_tunnel(request.params["tunnel_id"], _identity(request))
    doc = {
        "data": [event_doc(e) for e in tunnel.events],
        "links": None,
        "meta": {"request_id": request.request_id},
    }
    return Response.json(doc)


def register(router: Router) -> None:
    routes = [
        ("GET", "/v2/stream_access_points/{access_point_id}", get_stream_access_point),
        ("GET", "/v2/stream_access_points", list_stream_access_points),
        ("POST", "/v2/tunnels", create_tunnel),
        ("GET", "/v2/tunnels", list_tunnels),
        ("GET", "/v2/tunnels/{tunnel_id}", get_tunnel),
        ("PATCH", "/v2/tunnels/{tunnel_id}", update_tunnel),
        ("DELETE", "/v2/tunnels/{tunnel_id}", delete_tunnel),
        ("GET", "/v2/tunnels/{tunnel_id}/events", get_tunnel_events),
    ]
    for method, pattern, handler in routes:
        router.add(method, pattern, handler, jsonapi=True)
