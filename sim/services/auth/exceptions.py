"""OAuth2 errors in the shape Globus Auth (and globus-sdk's AuthAPIError) uses."""

from __future__ import annotations

from orbit_sim.core.http import ApiError


class OAuthError(ApiError):
    """`{"error": ..., "error_description": ...}` plus the Globus error fields."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(
            status,
            error,
            description,
            extra={"error": error, "error_description": description},
        )


class InvalidClient(OAuthError):
    def __init__(self, description: str = "Invalid client credentials") -> None:
        super().__init__(401, "invalid_client", description)


class InvalidGrant(OAuthError):
    def __init__(self, description: str) -> None:
        super().__init__(400, "invalid_grant", description)


class InvalidScope(OAuthError):
    def __init__(self, description: str) -> None:
        super().__init__(400, "invalid_scope", description)


class UnsupportedGrantType(OAuthError):
    def __init__(self, grant_type: str) -> None:
        super().__init__(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")


class InvalidRequest(OAuthError):
    def __init__(self, description: str) -> None:
        super().__init__(400, "invalid_request", description)
