"""GCS state: simulated endpoints (each with a GCS Manager) and their LAN secrets.

One active secret per (tunnel, access point): creating a new one revokes the old, so a
stale conf file fails the handshake with STALE_SECRET. Secrets belong to the identity
that created them (it must own the tunnel).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orbit_globus.lan import Credential
from orbit_sim.services.gcs.exceptions import GcsBadRequest, GcsConflict, GcsNotFound

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator


@dataclass
class GcsEndpoint:
    id: str
    display_name: str
    owner_id: str
    # The DNS-style name the in-process adapter answers on (like `abc123.8a2b.data.globus.org`).
    domain: str
    # "host:port" when the loopback server serves this endpoint's GCS Manager.
    served_address: str | None = None
    access_point_ids: list[str] = field(default_factory=list)

    @property
    def gcs_address(self) -> str:
        """What `GCSClient(gcs_address)` takes to reach this endpoint's manager."""
        return self.served_address or self.domain

    @property
    def manager_url(self) -> str:
        """The endpoint document's `gcs_manager_url`."""
        return f"https://{self.gcs_address}"


@dataclass
class LanSecret:
    id: str
    secret: str = field(repr=False)
    tunnel_id: str
    access_point_id: str
    endpoint_id: str
    owner_id: str
    created: float
    revoked: bool = False


class GcsBackend:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.endpoints: dict[str, GcsEndpoint] = {}
        self.lan_secrets: dict[str, LanSecret] = {}
        # (tunnel_id, access_point_id) -> id of the one active secret
        self._active: dict[tuple[str, str], str] = {}

    # -- endpoints --------------------------------------------------------------------------

    def add_endpoint(
        self, display_name: str, owner_id: str, *, endpoint_id: str | None = None
    ) -> GcsEndpoint:
        endpoint_id = endpoint_id or str(uuid.uuid4())
        domain = f"{endpoint_id[:6]}.{endpoint_id[9:13]}.data.globus.org"
        endpoint = GcsEndpoint(
            id=endpoint_id, display_name=display_name, owner_id=owner_id, domain=domain
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def endpoint_for_host(self, host: str) -> GcsEndpoint | None:
        """The endpoint whose manager answers at `host` (a domain or `ip:port`)."""
        host = host.lower()
        for endpoint in self.endpoints.values():
            if host in (endpoint.domain, endpoint.served_address):
                return endpoint
        return None

    # -- LAN secrets ------------------------------------------------------------------------

    def create_lan_secret(
        self, endpoint_id: str, owner_id: str, tunnel_id: str, access_point_id: str
    ) -> LanSecret:
        tunnel = self.sim.transfer.tunnels.get(tunnel_id)
        if tunnel is None or tunnel.owner_id != owner_id:
            raise GcsNotFound(f"Tunnel {tunnel_id} not found")
        if access_point_id not in (tunnel.initiator_ap_id, tunnel.listener_ap_id):
            raise GcsBadRequest(
                f"Stream access point {access_point_id} is not part of tunnel {tunnel_id}"
            )
        access_point = self.sim.transfer.access_points.get(access_point_id)
        if access_point is None or access_point.host_endpoint_id != endpoint_id:
            raise GcsNotFound(f"Stream access point {access_point_id} is not on this endpoint")
        if not tunnel.is_live:
            raise GcsConflict(f"Tunnel {tunnel_id} is {tunnel.state}")
        previous = self._active.pop((tunnel_id, access_point_id), None)
        if previous is not None:
            self.lan_secrets[previous].revoked = True
        lan_secret = LanSecret(
            id=str(uuid.uuid4()),
            # An access point that does not secure LAN connections hands out no key.
            secret=secrets.token_urlsafe(32) if access_point.lan_auth else "",
            tunnel_id=tunnel_id,
            access_point_id=access_point_id,
            endpoint_id=endpoint_id,
            owner_id=owner_id,
            created=self.sim.clock.now(),
        )
        self.lan_secrets[lan_secret.id] = lan_secret
        self._active[(tunnel_id, access_point_id)] = lan_secret.id
        return lan_secret

    def delete_lan_secret(self, endpoint_id: str, owner_id: str, secret_id: str) -> None:
        lan_secret = self.lan_secrets.get(secret_id)
        if (
            lan_secret is None
            or lan_secret.endpoint_id != endpoint_id
            or lan_secret.owner_id != owner_id
        ):
            raise GcsNotFound(f"LAN secret {secret_id} not found")
        self.revoke_lan_secret(secret_id)
        del self.lan_secrets[secret_id]

    def revoke_lan_secret(self, secret_id: str) -> bool:
        """Revoke one secret (control action); returns False if there is no such secret."""
        lan_secret = self.lan_secrets.get(secret_id)
        if lan_secret is None:
            return False
        lan_secret.revoked = True
        key = (lan_secret.tunnel_id, lan_secret.access_point_id)
        if self._active.get(key) == secret_id:
            del self._active[key]
        return True

    def lan_secret_for(self, tunnel_id: str, access_point_id: str) -> Credential | None:
        """The active secret of one tunnel side, for the stream gateway's handshakes."""
        with self.sim.lock:
            secret_id = self._active.get((str(tunnel_id), str(access_point_id)))
            if secret_id is None:
                return None
            lan_secret = self.lan_secrets[secret_id]
            return Credential(secret=lan_secret.secret, secret_id=uuid.UUID(lan_secret.id))

    def is_stale(self, secret_id: str) -> bool:
        """True for a secret that existed but was replaced or revoked (STALE_SECRET)."""
        with self.sim.lock:
            lan_secret = self.lan_secrets.get(str(secret_id))
            return lan_secret is not None and lan_secret.revoked

    def forget_tunnel(self, tunnel_id: str) -> None:
        for key in [k for k in self._active if k[0] == tunnel_id]:
            del self._active[key]
        for secret_id in [s.id for s in self.lan_secrets.values() if s.tunnel_id == tunnel_id]:
            del self.lan_secrets[secret_id]
