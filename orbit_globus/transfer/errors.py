"""Machine-readable plugin errors, shared by the endpoint side and the application side.

On the wire every error is a JSON object ``{code, message, required_scopes}`` with the
HTTP status carrying its class. The application side turns it back into the matching
exception, so callers can branch on the type or on ``code``.
"""

from __future__ import annotations

from typing import Any

import globus_sdk

# Codes the plugin itself produces (upstream Globus codes pass through unchanged).
CONSENT_REQUIRED = "ConsentRequired"
TOKEN_EXPIRED = "TokenExpired"
TOKEN_REFRESH_FAILED = "TokenRefreshFailed"
UPSTREAM_UNAVAILABLE = "UpstreamUnavailable"
BAD_REQUEST = "BadRequest"
NO_LOCAL_COLLECTION = "NoLocalCollection"
UNAUTHENTICATED_CLIENT = "ClientUnauthenticated"
CLIENT_CLOSED = "ClientClosed"
SESSION_NOT_FOUND = "SessionNotFound"
TASK_NOT_FOUND = "TaskNotFound"

# Transfer's codes for failures reported by a collection's storage rather than by Globus.
ENDPOINT_ERROR_PREFIXES = ("ExternalError", "EndpointError")


class PluginError(Exception):
    """An error with a stable ``code``, a human ``message`` and an HTTP ``status``."""

    status: int = 500
    default_code: str = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        required_scopes: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status is not None:
            self.status = status
        self.required_scopes = required_scopes

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "required_scopes": self.required_scopes}

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


class BadRequestError(PluginError):
    status = 400
    default_code = BAD_REQUEST


class AuthenticationError(PluginError):
    """The session's Globus credential is expired, revoked or could not be refreshed."""

    status = 401
    default_code = TOKEN_EXPIRED


class ConsentRequiredError(PluginError):
    """The token lacks a consent (e.g. a mapped collection's ``data_access`` scope)."""

    status = 401
    default_code = CONSENT_REQUIRED


class ClientAuthError(PluginError):
    """The caller did not present a valid endpoint client token."""

    status = 401
    default_code = UNAUTHENTICATED_CLIENT


class ForbiddenError(PluginError):
    status = 403
    default_code = "PermissionDenied"


class NotFoundError(PluginError):
    status = 404
    default_code = "NotFound"


class ConflictError(PluginError):
    status = 409
    default_code = "Conflict"


class UpstreamError(PluginError):
    """Globus could not be reached or kept failing after the SDK's retries."""

    status = 502
    default_code = UPSTREAM_UNAVAILABLE


_BY_STATUS: dict[int, type[PluginError]] = {
    400: BadRequestError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    502: UpstreamError,
}


def error_from_json(status: int, body: Any) -> PluginError:
    """Rebuild the exception an endpoint sent (application side)."""
    if not isinstance(body, dict) or "code" not in body:
        text = body if isinstance(body, str) else repr(body)
        return PluginError(f"unexpected reply: {text[:200]}", status=status)
    code = str(body["code"])
    message = str(body.get("message") or code)
    scopes = body.get("required_scopes")
    cls: type[PluginError]
    if code == CONSENT_REQUIRED:
        cls = ConsentRequiredError
    elif code == UNAUTHENTICATED_CLIENT:
        cls = ClientAuthError
    elif status == 401:
        cls = AuthenticationError
    else:
        cls = _BY_STATUS.get(status, PluginError)
    return cls(message, code=code, status=status, required_scopes=scopes)


def error_from_sdk(err: Exception) -> PluginError:
    """Translate a globus-sdk exception into a plugin error (endpoint side).

    Consent-required answers become 401 with the scopes in a field; a rejected token
    becomes a 401 with a different code so callers can tell "re-login" from "consent".
    """
    if isinstance(err, PluginError):
        return err
    if isinstance(err, globus_sdk.AuthAPIError):
        # The token endpoint refused the refresh token or the client credentials.
        return AuthenticationError(
            f"could not renew the access token ({err.http_status} {err.code}); "
            "register the session again with a valid refresh token",
            code=TOKEN_REFRESH_FAILED,
        )
    if isinstance(err, globus_sdk.GlobusAPIError):
        consent = err.info.consent_required
        if consent:
            return ConsentRequiredError(
                f"{err.message or 'consent required'}; re-acquire a token with the required scopes",
                required_scopes=list(consent.required_scopes),
            )
        if err.http_status == 401:
            return AuthenticationError(
                "Globus rejected the session's access token (expired or revoked); "
                "register the session again with a fresh token, or use a refresh token",
            )
        message = err.message or err.http_reason or "Globus API error"
        if err.http_status >= 500:
            if (err.code or "").startswith(ENDPOINT_ERROR_PREFIXES):
                # The storage behind a collection answered (e.g. mkdir on an existing path):
                # not transient, and its code is the useful part.
                return UpstreamError(message, code=err.code)
            return UpstreamError(f"Globus kept failing: {err.http_status} {message}")
        status = err.http_status if err.http_status in _BY_STATUS else 400
        return _BY_STATUS[status](message, code=err.code or None)
    if isinstance(err, globus_sdk.NetworkError):
        return UpstreamError(f"Globus is unreachable: {type(err).__name__}")
    if isinstance(err, globus_sdk.GlobusSDKUsageError | ValueError | TypeError):
        return BadRequestError(str(err))
    return PluginError(f"internal error: {type(err).__name__}")
