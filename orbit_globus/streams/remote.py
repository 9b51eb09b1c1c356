"""Transfer and GCS Manager calls of the environment operations, failures made one line.

globus-sdk is imported inside the functions: importing this module stays free.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import StreamsError
from .tunnel_doc import Tunnel, access_point_host_endpoint

if TYPE_CHECKING:
    from orbit_globus.login import Globus

# How long initialize and contact-lookup wait for a tunnel that is about to become ACTIVE.
ACTIVE_WAIT_SECONDS = 5.0
POLL_INTERVAL = 0.25
LAN_SECRET_TYPE = "lan_secret_create#1.0.0"


@contextlib.contextmanager
def tunnel_errors(tunnel_id: str) -> Iterator[None]:
    """Turn Transfer's 404/403 for one tunnel into a one-line `StreamsError`."""
    import globus_sdk

    try:
        yield
    except globus_sdk.GlobusAPIError as err:
        if err.http_status == 404:
            raise StreamsError(f"tunnel {tunnel_id} not found (unknown, or not yours)") from None
        if err.http_status == 403:
            raise StreamsError(
                f"tunnel {tunnel_id} belongs to another identity; access denied"
            ) from None
        raise


def get_tunnel_doc(globus: Globus, tunnel_id: str) -> dict:
    """The tunnel's JSON:API `data` document."""
    with tunnel_errors(tunnel_id):
        return globus.transfer.get_tunnel(tunnel_id).data["data"]


def fetch_tunnel(globus: Globus, tunnel_id: str) -> Tunnel:
    return Tunnel.from_doc(get_tunnel_doc(globus, tunnel_id))


def wait_for_active(globus: Globus, tunnel: Tunnel, timeout: float | None = None) -> Tunnel:
    """Poll until the tunnel has an initiator contact, is finished, or `timeout` passes."""
    deadline = time.monotonic() + (ACTIVE_WAIT_SECONDS if timeout is None else timeout)
    while tunnel.initiator_contact is None and not tunnel.finished:
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
        tunnel = fetch_tunnel(globus, tunnel.id)
    return tunnel


def record_listener(globus: Globus, tunnel_id: str, host: str, port: int) -> Tunnel:
    """Store where the listening application is (`PATCH /v2/tunnels/{id}`)."""
    from globus_sdk.experimental import TunnelUpdateDocument

    doc = TunnelUpdateDocument(listener_ip_address=host, listener_port=port)
    with tunnel_errors(tunnel_id):
        return Tunnel.from_doc(globus.transfer.update_tunnel(tunnel_id, doc).data)


def host_endpoint_of(globus: Globus, access_point_id: str) -> str:
    """The GCS endpoint that hosts a stream access point."""
    return access_point_host_endpoint(globus.transfer.get_stream_access_point(access_point_id).data)


def create_lan_secret(
    globus: Globus, endpoint_id: str, tunnel_id: str, access_point_id: str
) -> tuple[str, str]:
    """A new LAN secret for (tunnel, access point) from the endpoint's GCS Manager."""
    response = globus.gcs(endpoint_id).post(
        "/lan_secrets",
        data={
            "DATA_TYPE": LAN_SECRET_TYPE,
            "tunnel_id": tunnel_id,
            "stream_access_point_id": access_point_id,
        },
    )
    try:
        entry = response["data"][0]
        return str(entry.get("secret") or ""), str(entry["id"])
    except (KeyError, IndexError, TypeError):
        raise StreamsError(f"GCS Manager of {endpoint_id} sent no LAN secret") from None


def delete_lan_secret(
    globus: Globus, endpoint_id: str, secret_id: str, *, max_retries: int | None = None
) -> bool:
    """Delete a LAN secret; False when the GCS no longer knows it.

    `max_retries` lowers the client's retries for best-effort callers (cleanup).
    """
    import globus_sdk

    client = globus.gcs(endpoint_id)
    try:
        with client.retry_config.tune(max_retries=max_retries):
            client.delete(f"/lan_secrets/{secret_id}")
    except globus_sdk.GlobusAPIError as err:
        if err.http_status == 404:
            return False
        raise
    return True
