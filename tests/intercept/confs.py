"""Tunnel conf files written the SPEC 3.1 way (0600 files in a 0700 directory), for tests.

Written here rather than through orbit_globus.streams so these tests depend only on the
file format, not on the Python conf module.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfDir:
    path: Path

    @classmethod
    def create(cls, path: Path) -> ConfDir:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)
        return cls(path)

    def file(self, tunnel_id: str) -> Path:
        return self.path / f"{tunnel_id}.conf"

    def write_raw(self, tunnel_id: str, text: str | bytes, mode: int = 0o600) -> Path:
        target = self.file(tunnel_id)
        tmp = target.with_suffix(".tmp")
        data = text.encode() if isinstance(text, str) else text
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        tmp.chmod(mode)
        tmp.replace(target)
        return target

    def write(self, tunnel_id: str, **values: object) -> Path:
        return self.write_raw(tunnel_id, "".join(f"{k}={v}\n" for k, v in values.items()))

    def initiator(
        self,
        tunnel_id: str,
        contact: str,
        secret: str,
        secret_id: uuid.UUID | str,
        *,
        ttl: int = 3600,
        updated: float | None = None,
        globus_contact: str = "",
    ) -> Path:
        return self.write(
            tunnel_id,
            role="initiator",
            lankey=secret,
            lankey_id=secret_id,
            endpoint_id=uuid.UUID(int=1),
            connector_contact_string=contact,
            update_time=int(updated if updated is not None else time.time()),
            connector_contact_string_ttl=ttl,
            fake_port=4000,
            globus_contact=globus_contact,
            tunnel_expiration_time=int(time.time()) + 3600,
        )

    def listener(
        self, tunnel_id: str, secret: str, secret_id: uuid.UUID | str, listen: str = ""
    ) -> Path:
        return self.write(
            tunnel_id,
            role="listener",
            lankey=secret,
            lankey_id=secret_id,
            endpoint_id=uuid.UUID(int=2),
            listener_contact_string=listen,
            tunnel_expiration_time=int(time.time()) + 3600,
        )
