"""What `globus-streams doctor` reports: one finding per problem, one line each."""

from __future__ import annotations

import dataclasses
from typing import Any

# A finding that makes tunnel connections fail (the doctor then exits non-zero)...
BLOCKS = "error"
# ...or one that may make some fail, or surprise the user, but need not.
WARNS = "warning"


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str  # conf, permissions, expiry, tunnel, access-point, program, variables
    severity: str  # BLOCKS or WARNS
    message: str  # one line; never a secret
    tunnel_id: str | None = None

    @property
    def blocks(self) -> bool:
        return self.severity == BLOCKS

    def line(self) -> str:
        return f"{self.severity}: {self.check}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def blocking(check: str, message: str, tunnel_id: str | None = None) -> Finding:
    return Finding(check, BLOCKS, message, tunnel_id)


def warning(check: str, message: str, tunnel_id: str | None = None) -> Finding:
    return Finding(check, WARNS, message, tunnel_id)
