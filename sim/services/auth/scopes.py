"""Scope strings and the resource servers they belong to."""

from __future__ import annotations

from collections.abc import Iterable

from globus_sdk.scopes import Scope, ScopeParser

AUTH_RS = "auth.globus.org"
TRANSFER_RS = "transfer.api.globus.org"
TRANSFER_ALL = "urn:globus:auth:scope:transfer.api.globus.org:all"
AUTH_SCOPES = frozenset(
    {"openid", "profile", "email", "urn:globus:auth:scope:auth.globus.org:view_identities"}
)
URN_PREFIX = "urn:globus:auth:scope:"
URL_PREFIX = "https://auth.globus.org/scopes/"


def gcs_manage_collections(endpoint_id: str) -> str:
    return f"{URN_PREFIX}{endpoint_id}:manage_collections"


def data_access(collection_id: str) -> str:
    return f"{URL_PREFIX}{collection_id}/data_access"


def resource_server_of(scope_string: str) -> str | None:
    """The resource server a scope string belongs to, or None if it is not one we know."""
    if scope_string in AUTH_SCOPES:
        return AUTH_RS
    if scope_string.startswith(URN_PREFIX):
        resource_server, sep, name = scope_string[len(URN_PREFIX) :].rpartition(":")
        return resource_server if sep and resource_server and name else None
    if scope_string.startswith(URL_PREFIX):
        resource_server, sep, name = scope_string[len(URL_PREFIX) :].partition("/")
        return resource_server if sep and resource_server and name else None
    return None


def parse(requested: str | Iterable[str]) -> list[Scope]:
    """Parse a space-separated scope request (with `[dependent ...]` parts)."""
    text = requested if isinstance(requested, str) else " ".join(requested)
    try:
        return ScopeParser.parse(text)
    except Exception as err:  # the parser raises several error types
        raise ValueError(f"Malformed scope string: {err}") from None


def flatten_dependencies(scope: Scope) -> set[str]:
    """Every scope string nested under `scope` (its consented dependencies)."""
    found: set[str] = set()
    for dependency in scope.dependencies:
        found.add(dependency.scope_string)
        found |= flatten_dependencies(dependency)
    return found
