"""Machine-readable plugin errors, shared by the endpoint side and the application side.

On the wire an error is radical.orbit's error envelope ``{error, status_code, detail}``
plus ``code`` and, for a missing consent, ``required_scopes``; the HTTP status carries its
class. ``detail`` is one line. The application side turns it back into the matching
exception, a ``RuntimeError`` with ``status_code`` like radical.orbit's own clients raise,
so callers can branch on the type, on ``code`` or on ``status_code``.
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
CREDENTIAL_REQUIRED = "CredentialRequired"
SESSION_NOT_FOUND = "SessionNotFound"
SESSION_EXPIRED = "SessionExpired"

# Transfer's codes for failures reported by a collection's storage rather than by Globus.
ENDPOINT_ERROR_PREFIXES = ("ExternalError", "EndpointError")


class PluginError(RuntimeError):
    """An error with a stable ``code``, a one-line ``message`` and an HTTP ``status``."""

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

    @property
    def status_code(self) -> int:
        """The HTTP status, under the name radical.orbit's client errors use."""
        return self.status

    def to_json(self) -> dict[str, Any]:
        """radical.orbit's error envelope, plus ``code`` (and the scopes a consent needs)."""
        body: dict[str, Any] = {
            "error": True,
            "status_code": self.status,
            "detail": " ".join(self.message.split()),
            "code": self.code,
        }
        if self.required_scopes is not None:
            body["required_scopes"] = self.required_scopes
        return body

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
    410: NotFoundError,  # a session past its lifetime
    502: UpstreamError,
}


def error_from_json(status: int, body: Any) -> PluginError:
    """Rebuild the exception an endpoint sent (application side).

    Replies from radical.orbit itself (no route, broker errors) carry no ``code``.
    """
    if not isinstance(body, dict):
        text = body if isinstance(body, str) else repr(body)
        return PluginError(f"unexpected reply: {text[:200]}", status=status)
    message = str(body.get("detail") or body.get("message") or f"HTTP {status}")
    code = str(body.get("code") or f"HTTP{status}")
    scopes = body.get("required_scopes")
    cls: type[PluginError]
    if code == CONSENT_REQUIRED:
        cls = ConsentRequiredError
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
        # Globus' own status is kept (a missing path stays a 404, a 429 a 429).
        cls = _BY_STATUS.get(err.http_status, PluginError)
        return cls(message, code=err.code or None, status=err.http_status)
    if isinstance(err, globus_sdk.NetworkError):
        return UpstreamError(f"Globus is unreachable: {type(err).__name__}")
    if isinstance(err, globus_sdk.GlobusSDKUsageError | ValueError | TypeError):
        return BadRequestError(str(err))
    return PluginError(f"internal error: {type(err).__name__}")
