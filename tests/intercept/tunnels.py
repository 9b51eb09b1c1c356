"""A whole initiator tunnel for tests: conf file, access-point stub, preload environment."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from orbit_globus.lan import Credential
from tests.intercept.ap_stub import InitiatorAccessPoint
from tests.intercept.confs import ConfDir
from tests.intercept.targets import preload_env

FAKE_PORT = 4000


@dataclass
class Tunnel:
    id: str
    credential: Credential
    confs: ConfDir
    ap: InitiatorAccessPoint
    library: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"globus.{self.id}"

    @property
    def env(self) -> dict[str, str]:
        return preload_env(self.library, self.confs.path, **self.extra_env)

    def write_conf(self, **overrides: object) -> Path:
        values: dict[str, object] = dict(
            contact=self.ap.contact,
            secret=self.credential.secret,
            secret_id=self.credential.secret_id,
        )
        values.update(overrides)
        return self.confs.initiator(self.id, **values)  # type: ignore[arg-type]


def open_tunnel(
    library: Path,
    confs: ConfDir,
    target: tuple[str, int],
    *,
    ap_family: int = socket.AF_INET,
    secret: str = "tunnel-secret==",
    ap_credential: Credential | None = None,
    silent: bool = False,
) -> Tunnel:
    """Start an access-point stub relaying to `target` and write the initiator conf.
    `ap_credential` lets the access point expect another secret than the conf holds."""
    tunnel_id = str(uuid.uuid4())
    credential = Credential(secret, uuid.uuid4())
    ap = InitiatorAccessPoint(
        tunnel_id, ap_credential or credential, target, family=ap_family, silent=silent
    )
    tunnel = Tunnel(tunnel_id, credential, confs, ap, library)
    tunnel.write_conf()
    return tunnel
