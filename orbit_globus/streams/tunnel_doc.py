"""Reading the Transfer `/v2` tunnel and stream access point documents (JSON:API)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .contact import format_host_port
from .errors import StreamsError

ACTIVE = "ACTIVE"
# States from which a tunnel never becomes ACTIVE again without a restart.
FINISHED_STATES = frozenset({"STOPPING", "STOPPED", "FAILED", "EXPIRED", "DELETED"})


def _related_id(data: Mapping[str, Any], name: str) -> str | None:
    related = (data.get("relationships") or {}).get(name) or {}
    return (related.get("data") or {}).get("id")


@dataclasses.dataclass(frozen=True)
class Tunnel:
    id: str
    state: str
    initiator_ap: str | None
    listener_ap: str | None
    initiator_ip: str | None
    initiator_port: int | None
    listener_ip: str | None
    listener_port: int | None
    lifetime_mins: int | None
    label: str | None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Tunnel:
        data = doc.get("data", doc)
        attributes = data.get("attributes") or {}
        if "id" not in data:
            raise StreamsError("Transfer sent a tunnel document without an id")
        return cls(
            id=str(data["id"]),
            state=str(attributes.get("state") or "UNKNOWN"),
            initiator_ap=_related_id(data, "initiator"),
            listener_ap=_related_id(data, "listener"),
            initiator_ip=attributes.get("initiator_ip_address") or None,
            initiator_port=_port(attributes.get("initiator_port")),
            listener_ip=attributes.get("listener_ip_address") or None,
            listener_port=_port(attributes.get("listener_port")),
            lifetime_mins=_int(attributes.get("lifetime_mins")),
            label=attributes.get("label"),
        )

    @property
    def initiator_contact(self) -> str | None:
        """`ip:port` of the initiator access point, only once the tunnel is ACTIVE."""
        if self.state != ACTIVE or not self.initiator_ip or not self.initiator_port:
            return None
        return format_host_port(self.initiator_ip, self.initiator_port)

    @property
    def listener_contact(self) -> str | None:
        if not self.listener_ip or not self.listener_port:
            return None
        return format_host_port(self.listener_ip, self.listener_port)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_STATES


def access_point_host_endpoint(doc: Mapping[str, Any]) -> str:
    """The GCS endpoint hosting a stream access point (`relationships.host_endpoint`)."""
    data = doc.get("data", doc)
    endpoint_id = _related_id(data, "host_endpoint")
    if not endpoint_id:
        raise StreamsError(
            f"stream access point {data.get('id')} names no host endpoint; pass ENDPOINT_ID"
        )
    return endpoint_id


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _port(value: Any) -> int | None:
    port = _int(value)
    return port if port is not None and 0 < port < 65536 else None
