"""Expected failures -> one line on stderr and a documented exit status, never a traceback.

Text mode prints `globus-streams: error: <message>`; JSON mode (-F json or --jmespath)
prints one JSON object on one line instead, on stderr as globus-cli does, so stdout stays
empty on failure: `{"error": "not_found", "exit_status": 4, "message": "..."}`.
The exit statuses are `ExitCode` (orbit_globus.streams.errors), listed in `--help`.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

import click

from orbit_globus.streams.errors import ERROR_KINDS, ExitCode, StreamsError

MAX_MESSAGE = 300
CLIENT_ID_ENV = "GLOBUS_STREAMS_CLIENT_ID"
CLIENT_SECRET_ENV = "GLOBUS_STREAMS_CLIENT_SECRET"


class CliError(click.ClickException):
    """A failure the user can act on; `show()` prints it as text or JSON."""

    def __init__(
        self,
        message: str,
        exit_code: int = ExitCode.BAD_INPUT,
        *,
        kind: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(_one_line(message))
        self.exit_code = int(exit_code)
        self.kind = kind or ERROR_KINDS.get(self.exit_code, "error")
        self.details = details or {}  # JSON only: a service's http_status, code, request_id
        self.as_json = False  # set by the group from the invocation's --format

    def show(self, file: object = None) -> None:
        show_error(
            self.format_message(), self.exit_code, self.kind, as_json=self.as_json, **self.details
        )


def show_error(
    message: str, exit_code: int, kind: str, *, as_json: bool, **details: object
) -> None:
    if as_json:
        doc = {**details, "error": kind, "exit_status": exit_code, "message": message}
        click.echo(json.dumps(doc, sort_keys=True, default=str), err=True)
    else:
        click.echo(f"globus-streams: error: {message}", err=True)


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 3] + "..."


def uses_client_credentials() -> bool:
    # Read here rather than from orbit_globus.login, which imports globus-sdk.
    return bool(os.environ.get(CLIENT_ID_ENV) and os.environ.get(CLIENT_SECRET_ENV))


def login_hint() -> str:
    """What to do about a missing or rejected login, for the credentials in use."""
    if uses_client_credentials():
        return f"check {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} (client credentials)"
    return "run: globus-streams login"


def translate(err: Exception) -> Exception:
    """The `CliError` for an expected failure; anything else is returned unchanged (a bug)."""
    if isinstance(err, CliError):
        return err
    if isinstance(err, StreamsError):
        return CliError(str(err), err.exit_code, kind=err.kind)
    if "globus_sdk" in sys.modules:
        translated = _translate_sdk(err)
        if translated is not None:
            return translated
    if isinstance(err, PermissionError):
        return CliError(f"permission denied: {err.filename}")
    if isinstance(err, OSError) and err.strerror:
        where = f": {err.filename}" if err.filename else ""
        return CliError(f"{err.strerror}{where}")
    return err


def _host_of(url: str | None) -> str:
    if not url:
        return "the service"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


def _translate_sdk(err: Exception) -> CliError | None:
    import globus_sdk
    from globus_sdk.token_storage import TokenValidationError

    if isinstance(err, TokenValidationError):
        return CliError(
            f"not logged in, or the login no longer covers this ({err.__class__.__name__}); "
            + login_hint(),
            ExitCode.LOGIN,
        )
    if isinstance(err, globus_sdk.NetworkError):
        underlying = err.underlying_exception
        request = getattr(underlying, "request", None)
        reason = _network_reason(underlying)
        return CliError(
            f"cannot reach {_host_of(getattr(request, 'url', None))}: {reason}",
            ExitCode.UNREACHABLE,
        )
    if isinstance(err, globus_sdk.GlobusAPIError):
        return _api_error(err)
    if isinstance(err, globus_sdk.GlobusSDKUsageError):
        return CliError(str(err))
    return None


# What requests' messages say -> what the user reads.
NETWORK_REASONS = {
    "Connection refused": "connection refused",
    "Name or service not known": "unknown host name",
    "timed out": "timed out",
    "CERTIFICATE_VERIFY_FAILED": "TLS certificate not trusted (check GLOBUS_SDK_VERIFY_SSL)",
    "Connection reset": "connection reset",
}


def _network_reason(underlying: BaseException) -> str:
    text = str(underlying)
    for marker, reason in NETWORK_REASONS.items():
        if marker in text:
            return reason
    return underlying.__class__.__name__


SERVICE_NAMES = {
    "TransferAPIError": "Transfer",
    "GCSAPIError": "GCS Manager",
    "AuthAPIError": "Globus Auth",
}


def _api_error(err: object) -> CliError:
    import globus_sdk

    assert isinstance(err, globus_sdk.GlobusAPIError)
    url = getattr(getattr(err, "_underlying_response", None), "url", None)
    service = f"{SERVICE_NAMES.get(type(err).__name__, 'Globus')} ({_host_of(url)})"
    message = err.message or err.http_reason
    answered = f"{service} answered {err.http_status} {err.code}: {message}"
    # As globus-cli's JSON errors carry them: for scripts and for support requests.
    request_id = getattr(err, "request_id", None) or (err.raw_json or {}).get("request_id")
    details = {"http_status": err.http_status, "code": err.code, "request_id": request_id}
    if err.info.consent_required:
        if uses_client_credentials():
            hint = "the client's identity needs a role on this endpoint"
        else:
            hint = "run: globus-streams login --gcs ENDPOINT_ID"
        text = f"{service} needs a consent this login lacks; {hint}"
        return CliError(text, ExitCode.LOGIN, details=details)
    if err.http_status == 401 or (
        isinstance(err, globus_sdk.AuthAPIError) and err.code in ("invalid_client", "UNAUTHORIZED")
    ):
        return CliError(f"{answered}; {login_hint()}", ExitCode.LOGIN, details=details)
    if err.http_status == 403:
        return CliError(answered, ExitCode.NOT_FOUND, kind="denied", details=details)
    if err.http_status == 404:
        return CliError(answered, ExitCode.NOT_FOUND, details=details)
    return CliError(answered, ExitCode.SERVICE, details=details)
