"""Expected failures -> one line on stderr and a non-zero exit, never a traceback.

Exit statuses: 1 bad input or local state, 2 usage or missing login/consent, 3 a service
cannot be reached, 4 denied or not found, 5 any other service error.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click

from orbit_globus.streams.errors import StreamsError

MAX_MESSAGE = 300


class CliError(click.ClickException):
    """A failure the user can act on; shown as `globus-streams: error: <one line>`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(_one_line(message))
        self.exit_code = exit_code

    def show(self, file: object = None) -> None:
        click.echo(f"globus-streams: error: {self.format_message()}", err=True)


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 3] + "..."


def translate(err: Exception) -> Exception:
    """The `CliError` for an expected failure; anything else is returned unchanged (a bug)."""
    if isinstance(err, StreamsError):
        return CliError(str(err), err.exit_code)
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
            f"not logged in or the login no longer covers this ({err.__class__.__name__});"
            " run: globus-streams login",
            2,
        )
    if isinstance(err, globus_sdk.NetworkError):
        underlying = err.underlying_exception
        request = getattr(underlying, "request", None)
        reason = _network_reason(underlying)
        return CliError(f"cannot reach {_host_of(getattr(request, 'url', None))}: {reason}", 3)
    if isinstance(err, globus_sdk.GlobusAPIError):
        return CliError(_api_error_line(err), 4 if err.http_status in (401, 403, 404) else 5)
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


def _api_error_line(err: object) -> str:
    import globus_sdk

    assert isinstance(err, globus_sdk.GlobusAPIError)
    url = getattr(getattr(err, "_underlying_response", None), "url", None)
    service = f"{SERVICE_NAMES.get(type(err).__name__, 'Globus')} ({_host_of(url)})"
    message = err.message or err.http_reason
    if err.info.consent_required:
        return f"{service} needs a consent this login lacks; run: globus-streams login --gcs ID"
    hint = "; run: globus-streams login" if err.http_status == 401 else ""
    return f"{service} answered {err.http_status} {err.code}: {message}{hint}"
