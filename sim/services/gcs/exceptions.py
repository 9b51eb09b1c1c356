"""GCS Manager errors: Globus error fields plus GCS's `result#1.0.0` envelope."""

from __future__ import annotations

from orbit_sim.core.http import ApiError


class GcsError(ApiError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(
            status,
            code,
            message,
            extra={
                "DATA_TYPE": "result#1.0.0",
                "detail": message,
                "http_response_code": status,
                "has_next_page": False,
                "data": [],
            },
        )


class GcsNotFound(GcsError):
    def __init__(self, message: str) -> None:
        super().__init__(404, "not_found", message)


class GcsBadRequest(GcsError):
    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_parameter", message)


class GcsConflict(GcsError):
    def __init__(self, message: str) -> None:
        super().__init__(409, "conflict", message)


class GcsPermissionDenied(GcsError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "permission_denied", message)
