"""`get_endpoint` and `endpoint_search` for GCSv5 endpoints and their collections.

Documents carry every key of globus-sdk's `get_endpoint` fixture plus the GCSv5 keys a
real collection document has (`entity_type`, `gcs_manager_url`, `non_functional_endpoint_id`,
...). `endpoint_search` pages with limit/offset and `has_next_page`, the way the SDK's
HasNextPaginator walks it, capped at 1000 results like the real service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orbit_sim.core.http import BadRequest, Request, Router
from orbit_sim.services.transfer.collections import Collection, EndpointNotFound

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator

GCS_VERSION = "5.4.80"
SEARCH_RESULT_CAP = 1000
SEARCH_SCOPES = {
    "all",
    "my-endpoints",
    "my-gcp-endpoints",
    "recently-used",
    "in-use",
    "shared-by-me",
    "shared-with-me",
    "administered-by-me",
}

# Keys every endpoint document has with the same value in the simulator.
_NULL_KEYS = [
    "acl_max_expiration_period_mins",
    "authentication_assurance_timeout",
    "authentication_policy_id",
    "contact_email",
    "contact_info",
    "expire_time",
    "gcp_connected",
    "gcp_paused",
    "globus_connect_setup_key",
    "host_endpoint",
    "host_endpoint_display_name",
    "host_endpoint_id",
    "host_path",
    "https_server",
    "info_link",
    "last_accessed_time",
    "myproxy_dn",
    "oauth_server",
    "s3_url",
    "sharing_target_endpoint",
    "sharing_target_root_path",
    "subscription_id",
    "user_message",
    "user_message_link",
]
_FALSE_KEYS = [
    "acl_available",
    "acl_editable",
    "activated",
    "disable_anonymous_writes",
    "disable_verify",
    "force_encryption",
    "force_verify",
    "french_english_bilingual",
    "high_assurance",
    "in_use",
    "is_globus_connect",
    "mfa_required",
    "requester_pays",
    "s3_owner_activated",
]


@dataclass(frozen=True)
class EndpointView:
    """What a document needs to know about a GCS endpoint (the host of collections)."""

    id: str
    display_name: str
    gcs_manager_url: str
    owner_id: str
    owner_string: str
    organization: str | None = None
    description: str | None = None


def gcs_endpoints(sim: Simulator) -> list[EndpointView]:
    """The simulated GCS endpoints (B's model) as views for documents."""
    views = []
    for record in sim.gcs.endpoints.values():
        owner = sim.auth.identities.get(record.owner_id)
        views.append(
            EndpointView(
                id=record.id,
                display_name=record.display_name,
                gcs_manager_url=record.manager_url,
                owner_id=record.owner_id,
                owner_string=owner.username if owner else record.owner_id,
                organization="orbit-sim",
                description=f"Simulated GCSv5 endpoint {record.display_name}",
            )
        )
    return views


def _base_document() -> dict[str, Any]:
    doc: dict[str, Any] = dict.fromkeys(_NULL_KEYS)
    doc.update(dict.fromkeys(_FALSE_KEYS, False))
    doc.update(
        {
            "DATA_TYPE": "endpoint",
            "DATA": [],
            "authentication_timeout_mins": 15840,
            "expires_in": -1,
            "gcs_version": GCS_VERSION,
            "location": "Automatic",
            "max_concurrency": 4,
            "max_parallelism": 8,
            "preferred_concurrency": 2,
            "preferred_parallelism": 4,
            "my_effective_roles": [],
            "myproxy_server": None,
            "network_use": "normal",
            "non_functional": False,
            "non_functional_endpoint_display_name": None,
            "non_functional_endpoint_id": None,
            "mapped_collection_display_name": None,
            "mapped_collection_id": None,
            "local_user_info_available": None,
            "public": True,
            "shareable": False,
            "keywords": None,
            "department": None,
        }
    )
    return doc


def _host_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _server(hostname: str) -> dict[str, Any]:
    return {
        "DATA_TYPE": "server",
        "hostname": hostname,
        "uri": f"tlsftp://{hostname}:443",
        "port": 443,
        "scheme": "tlsftp",
        "id": 1,
        "subject": None,
    }


def collection_document(collection: Collection, host: EndpointView | None) -> dict[str, Any]:
    doc = _base_document()
    manager_url = host.gcs_manager_url if host else ""
    hostname = _host_of(manager_url) or "localhost"
    doc.update(
        {
            "id": collection.id,
            "name": collection.id,
            "canonical_name": f"{collection.owner_string}#{collection.id}",
            "display_name": collection.display_name,
            "entity_type": collection.entity_type,
            "description": collection.description,
            "organization": collection.organization,
            "department": collection.department,
            "keywords": collection.keywords,
            "owner_id": collection.owner_id,
            "owner_string": collection.owner_string,
            "username": collection.owner_string.split("@", 1)[0],
            "public": collection.public,
            "shareable": collection.kind == "mapped",
            "default_directory": collection.default_directory,
            "gcs_manager_url": manager_url or None,
            "tlsftp_server": f"tlsftp://{hostname}:443",
            "https_server": f"https://{hostname}",
            "non_functional_endpoint_id": host.id if host else collection.endpoint_id,
            "non_functional_endpoint_display_name": host.display_name if host else None,
            "local_user_info_available": collection.kind == "mapped",
            "DATA": [_server(hostname)],
        }
    )
    if collection.kind == "guest":
        doc["host_endpoint_id"] = collection.mapped_collection_id
        doc["mapped_collection_id"] = collection.mapped_collection_id
        doc["host_path"] = "/"
    return doc


def gcs_endpoint_document(endpoint: EndpointView) -> dict[str, Any]:
    doc = _base_document()
    hostname = _host_of(endpoint.gcs_manager_url)
    doc.update(
        {
            "id": endpoint.id,
            "name": endpoint.id,
            "canonical_name": f"{endpoint.owner_string}#{endpoint.id}",
            "display_name": endpoint.display_name,
            "entity_type": "GCSv5_endpoint",
            "description": endpoint.description,
            "organization": endpoint.organization,
            "owner_id": endpoint.owner_id,
            "owner_string": endpoint.owner_string,
            "username": endpoint.owner_string.split("@", 1)[0],
            "gcs_manager_url": endpoint.gcs_manager_url,
            "tlsftp_server": f"tlsftp://{hostname}:443",
            "DATA": [_server(hostname)],
            "default_directory": None,
            # A GCSv5 endpoint holds no data itself; its collections do.
            "non_functional": True,
            "public": True,
        }
    )
    return doc


def all_documents(sim: Simulator) -> list[dict[str, Any]]:
    endpoints = {view.id: view for view in gcs_endpoints(sim)}
    docs = [gcs_endpoint_document(view) for view in endpoints.values()]
    docs.extend(
        collection_document(c, endpoints.get(c.endpoint_id))
        for c in sim.transfer.data.collections.values()
    )
    return docs


def find_document(sim: Simulator, endpoint_id: str) -> dict[str, Any]:
    wanted = endpoint_id.lower()
    data = sim.transfer.data
    endpoints = {view.id: view for view in gcs_endpoints(sim)}
    collection = data.collections.get(wanted)
    if collection is not None:
        return collection_document(collection, endpoints.get(collection.endpoint_id))
    if wanted in endpoints:
        return gcs_endpoint_document(endpoints[wanted])
    raise EndpointNotFound(endpoint_id)


# -- search -----------------------------------------------------------------------------------


def _fulltext_match(doc: dict[str, Any], words: Iterable[str]) -> bool:
    haystack = " ".join(
        str(doc.get(key) or "")
        for key in ("display_name", "description", "organization", "department", "keywords")
    ).lower()
    haystack += f" {doc['id']} {doc['owner_string']}".lower()
    return all(word in haystack for word in words)


def _scope_match(doc: dict[str, Any], scope: str, identity_id: str) -> bool:
    if scope in ("all", "recently-used", "in-use"):
        return True
    if scope in ("my-endpoints", "administered-by-me"):
        return doc["owner_id"] == identity_id
    if scope == "shared-by-me":
        return doc["owner_id"] == identity_id and doc["entity_type"].endswith("guest_collection")
    if scope == "shared-with-me":
        return doc["owner_id"] != identity_id and doc["entity_type"].endswith("guest_collection")
    return False  # my-gcp-endpoints: the simulator has no Globus Connect Personal


def search(sim: Simulator, request: Request, identity_id: str) -> dict[str, Any]:
    fulltext = (request.arg("filter_fulltext") or "").strip()
    scope = request.arg("filter_scope") or "all"
    if scope not in SEARCH_SCOPES:
        raise BadRequest(f"Invalid filter_scope: {scope!r}")
    if scope == "all" and not fulltext:
        raise BadRequest("filter_fulltext is required when filter_scope is 'all'")
    limit = request.int_arg("limit", 25, minimum=1, maximum=100)
    offset = request.int_arg("offset", 0, minimum=0, maximum=SEARCH_RESULT_CAP - 1)
    if offset + limit > SEARCH_RESULT_CAP:
        raise BadRequest(f"offset + limit must be <= {SEARCH_RESULT_CAP}")
    words = fulltext.lower().split()
    owner = request.arg("filter_owner_id")
    host = request.arg("filter_host_endpoint")
    entity_type = request.arg("filter_entity_type")
    non_functional = request.arg("filter_non_functional")
    matches = []
    for doc in all_documents(sim):
        if not _scope_match(doc, scope, identity_id) or not _fulltext_match(doc, words):
            continue
        if owner and doc["owner_id"] != owner:
            continue
        if host and doc["non_functional_endpoint_id"] != host and doc["host_endpoint_id"] != host:
            continue
        if entity_type and doc["entity_type"] != entity_type:
            continue
        if non_functional in ("0", "1") and doc["non_functional"] != (non_functional == "1"):
            continue
        matches.append(doc)
    # Best match first (display name hits), then a stable order.
    matches.sort(
        key=lambda d: (
            not all(w in d["display_name"].lower() for w in words),
            d["display_name"],
            d["id"],
        )
    )
    total = min(len(matches), SEARCH_RESULT_CAP)
    page = matches[offset : offset + limit]
    return {
        "DATA_TYPE": "endpoint_list",
        "DATA": page,
        "limit": limit,
        "offset": offset,
        "has_next_page": offset + len(page) < total,
    }


# -- routes -----------------------------------------------------------------------------------


def get_endpoint(sim: Simulator, request: Request) -> dict[str, Any]:
    return find_document(sim, request.params["endpoint_id"])


def endpoint_search(sim: Simulator, request: Request) -> dict[str, Any]:
    assert request.token is not None
    return search(sim, request, request.token.identity_id)


def register(router: Router) -> None:
    router.add("GET", "/v0.10/endpoint/{endpoint_id}", get_endpoint)
    router.add("GET", "/v0.10/endpoint_search", endpoint_search)
