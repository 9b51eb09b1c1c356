"""Who the CLI acts as (`whoami`)."""

from __future__ import annotations

import os

import globus_sdk

from .app import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    TRANSFER_RESOURCE_SERVER,
    make_app,
    retry_config,
    uses_client_credentials,
)


def whoami() -> dict[str, str]:
    """`{"id", "username", "mode"}` from Globus Auth (introspection or userinfo)."""
    app = make_app()
    try:
        if uses_client_credentials():
            return _client_identity(app)
        info = globus_sdk.AuthClient(app=app).userinfo()
        return {
            "id": info["sub"],
            "username": info.get("preferred_username", ""),
            "mode": "user login",
        }
    finally:
        app.close()


def _client_identity(app: globus_sdk.GlobusApp) -> dict[str, str]:
    authorizer = app.get_authorizer(TRANSFER_RESOURCE_SERVER)
    authorizer.get_authorization_header()  # fetches a token when none is stored
    token = getattr(authorizer, "access_token", None)
    auth = globus_sdk.ConfidentialAppAuthClient(
        os.environ[CLIENT_ID_ENV], os.environ[CLIENT_SECRET_ENV], retry_config=retry_config()
    )
    info = auth.oauth2_token_introspect(token)
    if not info.get("active"):
        raise globus_sdk.GlobusSDKUsageError("Globus Auth says the client's token is not active")
    return {"id": info["sub"], "username": info.get("username", ""), "mode": "client credentials"}
