"""Endpoint clients and their bearer tokens.

Every application first registers as a client and receives a random token; plugins tie
what they create (sessions, event streams) to the client id behind the token. Only
SHA-256 digests of tokens are kept, so a memory dump or a repr never shows one.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from starlette.requests import Request

from orbit_globus.transfer.errors import ClientAuthError

TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ClientRegistry:
    def __init__(self) -> None:
        self._client_by_digest: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._client_by_digest)

    def register(self) -> tuple[str, str]:
        """A new ``(client_id, token)``; the token is shown to the caller once."""
        client_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self._client_by_digest[_digest(token)] = client_id
        return client_id, token

    def forget(self, client_id: str) -> None:
        for digest, owner in list(self._client_by_digest.items()):
            if owner == client_id:
                del self._client_by_digest[digest]

    def authenticate(self, request: Request) -> str:
        """The client id of the request's bearer token, or ClientAuthError."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ClientAuthError("missing client token: register with POST /clients first")
        client_id = self._client_by_digest.get(_digest(token.strip()))
        if client_id is None:
            raise ClientAuthError("unknown client token")
        return client_id
