"""Which Globus identity the CLI acts as, through globus-sdk's GlobusApp.

- `GLOBUS_STREAMS_CLIENT_ID` + `GLOBUS_STREAMS_CLIENT_SECRET`: a `ClientApp` (client
  credentials; service accounts, CI, the simulator).
- otherwise a `UserApp`: native-app login, refresh tokens, renewed without a prompt.

Both keep tokens in globus-sdk's JSON token storage under the user's home (written 0600),
so a short-lived process such as `contact-lookup` reuses a valid access token instead of
asking Globus Auth each time. Service URLs come from globus-sdk's own environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path

import globus_sdk
import requests
from globus_sdk.config import get_environment_name
from globus_sdk.globus_app.config import resolve_by_login_flow
from globus_sdk.scopes import AuthScopes, TransferScopes
from globus_sdk.token_storage import JSONTokenStorage
from globus_sdk.transport import RetryCheckResult, RetryConfig, RetryContext

from orbit_globus.streams.errors import ExitCode, StreamsError

APP_NAME = "globus-streams"
CLIENT_ID_ENV = "GLOBUS_STREAMS_CLIENT_ID"
CLIENT_SECRET_ENV = "GLOBUS_STREAMS_CLIENT_SECRET"
NATIVE_CLIENT_ID_ENV = "GLOBUS_STREAMS_NATIVE_CLIENT_ID"
TRANSFER_RESOURCE_SERVER = "transfer.api.globus.org"
# globus-sdk's default (5 retries, up to 10 s apart) keeps a command silent for ~15 s when
# a service is down; 3 retries at most 4 s apart still ride out a 503 or a restart.
MAX_RETRIES = 3
MAX_RETRY_SLEEP = 4.0


def _never_retry_tls_failures(ctx: RetryContext) -> RetryCheckResult:
    # An untrusted certificate stays untrusted; retrying only delays the one-line error.
    if isinstance(ctx.exception, requests.exceptions.SSLError):
        return RetryCheckResult.do_not_retry
    return RetryCheckResult.no_decision


def retry_config() -> RetryConfig:
    """A fresh retry policy (each client then appends the SDK's standard checks to it)."""
    config = RetryConfig(max_retries=MAX_RETRIES, max_sleep=MAX_RETRY_SLEEP)
    config.checks.register_check(_never_retry_tls_failures)
    return config


def token_storage(client_id: str) -> JSONTokenStorage:
    """globus-sdk's JSON storage at its usual place, `~/.globus/app/<client>/<app>/`, with
    the directories this creates made 0700 (the SDK writes the file 0600 but leaves the
    directories to the umask)."""
    environment = get_environment_name()
    directory = Path.home() / ".globus" / "app" / client_id / APP_NAME
    for level in reversed([directory, *directory.parents][:4]):
        if not level.is_dir():
            level.mkdir(mode=0o700)
            level.chmod(0o700)
    name = "tokens.json" if environment == "production" else f"{environment}-tokens.json"
    return JSONTokenStorage(directory / name)


def uses_client_credentials() -> bool:
    return bool(os.environ.get(CLIENT_ID_ENV) and os.environ.get(CLIENT_SECRET_ENV))


def make_app(*, interactive: bool = False) -> globus_sdk.GlobusApp:
    """The app for this process; `interactive` allows a browser login when one is needed."""
    scopes = {TRANSFER_RESOURCE_SERVER: [TransferScopes.all]}
    if uses_client_credentials():
        login_client = globus_sdk.ConfidentialAppAuthClient(
            os.environ[CLIENT_ID_ENV],
            os.environ[CLIENT_SECRET_ENV],
            app_name=APP_NAME,
            retry_config=retry_config(),
        )
        return globus_sdk.ClientApp(
            APP_NAME,
            login_client=login_client,
            scope_requirements=scopes,
            config=globus_sdk.GlobusAppConfig(
                token_storage=token_storage(os.environ[CLIENT_ID_ENV]),
                token_validation_error_handler=None,
            ),
        )
    native_client_id = os.environ.get(NATIVE_CLIENT_ID_ENV)
    if not native_client_id:
        raise StreamsError(
            f"no Globus credentials: set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} "
            f"(client credentials), or {NATIVE_CLIENT_ID_ENV} (a native app registered at "
            "https://app.globus.org/settings/developers) and run: globus-streams login",
            exit_code=ExitCode.LOGIN,
        )
    # whoami's userinfo needs these; asking at login saves a second consent later.
    scopes["auth.globus.org"] = [AuthScopes.openid, AuthScopes.profile, AuthScopes.email]
    return globus_sdk.UserApp(
        APP_NAME,
        login_client=globus_sdk.NativeAppAuthClient(
            native_client_id, app_name=APP_NAME, retry_config=retry_config()
        ),
        scope_requirements=scopes,
        config=globus_sdk.GlobusAppConfig(
            token_storage=token_storage(native_client_id),
            request_refresh_tokens=True,
            token_validation_error_handler=resolve_by_login_flow if interactive else None,
        ),
    )
