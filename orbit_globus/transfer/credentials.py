"""Turn the credential a client registers into a globus-sdk authorizer.

An access token alone gives an ``AccessTokenAuthorizer`` (not renewed: the client
registers again when it lapses). A refresh token with a client id gives a
``RefreshTokenAuthorizer`` over a native app client, or over a confidential app client
when a client secret is given too; the SDK then renews the access token on expiry and on
a 401, transparently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import globus_sdk
from globus_sdk.authorizers import GlobusAuthorizer
from globus_sdk.transport import RetryConfig

from .errors import BadRequestError

# Globus access tokens live about 48 h; a wrong guess only costs one 401-and-renew.
ASSUMED_ACCESS_TOKEN_LIFETIME = 48 * 3600


@dataclass(frozen=True)
class Credential:
    """What a client hands over at registration. Secrets never reach the repr."""

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.refresh_token:
            if not self.client_id:
                raise BadRequestError("a refresh_token needs the client_id it was issued to")
        elif not self.access_token:
            raise BadRequestError("register_session needs an access_token or a refresh_token")
        if self.client_secret and not self.client_id:
            raise BadRequestError("a client_secret needs its client_id")

    @property
    def renewable(self) -> bool:
        return bool(self.refresh_token)


def build_authorizer(
    credential: Credential, retry_config: RetryConfig | None = None
) -> GlobusAuthorizer:
    """The authorizer for ``credential``. May call Globus Auth (a first token): blocking."""
    if not credential.refresh_token:
        assert credential.access_token is not None
        return globus_sdk.AccessTokenAuthorizer(credential.access_token)
    assert credential.client_id is not None
    auth_client: globus_sdk.AuthLoginClient
    if credential.client_secret:
        auth_client = globus_sdk.ConfidentialAppAuthClient(
            credential.client_id, credential.client_secret, retry_config=retry_config
        )
    else:
        auth_client = globus_sdk.NativeAppAuthClient(
            credential.client_id, retry_config=retry_config
        )
    expires_at = (
        int(time.time()) + ASSUMED_ACCESS_TOKEN_LIFETIME if credential.access_token else None
    )
    return globus_sdk.RefreshTokenAuthorizer(
        credential.refresh_token,
        auth_client,
        access_token=credential.access_token,
        expires_at=expires_at,
    )
