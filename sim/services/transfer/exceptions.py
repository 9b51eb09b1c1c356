"""Transfer API errors with the codes the real service uses."""

from __future__ import annotations

from orbit_sim.core.http import ApiError


class TunnelNotFound(ApiError):
    def __init__(self, tunnel_id: str) -> None:
        super().__init__(404, "NotFound", f"Tunnel {tunnel_id} not found")


class AccessPointNotFound(ApiError):
    def __init__(self, access_point_id: str) -> None:
        super().__init__(404, "NotFound", f"Stream access point {access_point_id} not found")


class TunnelConflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(409, "Conflict", message)


class InvalidTunnelRequest(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, "BadRequest", message)
