"""The data_access consent that GCSv5 mapped collections ask for.

Until the caller's Transfer token carries the collection's data_access scope (as a
dependency of the Transfer scope), every data operation on such a collection answers
403 `ConsentRequired` with `required_scopes` and `authorization_parameters`, the body
globus-sdk parses into `err.info.consent_required` and `err.info.authorization_parameters`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orbit_sim.core.http import ApiError
from orbit_sim.services.auth.scopes import TRANSFER_ALL, data_access

if TYPE_CHECKING:
    from orbit_sim.services.auth.models import Token
    from orbit_sim.services.transfer.collections import Collection

CONSENT_MESSAGE = "Missing required data_access consent"


def required_scope(collection_id: str) -> str:
    """The scope a client must request to use the collection, as Transfer names it."""
    return f"{TRANSFER_ALL}[*{data_access(collection_id)}]"


class ConsentRequired(ApiError):
    def __init__(self, collection_id: str) -> None:
        scopes = [required_scope(collection_id)]
        super().__init__(
            403,
            "ConsentRequired",
            CONSENT_MESSAGE,
            extra={
                "required_scopes": scopes,
                "authorization_parameters": {
                    "session_message": CONSENT_MESSAGE,
                    "required_scopes": scopes,
                },
            },
        )


def has_data_access(token: Token | None, collection_id: str) -> bool:
    return token is not None and token.has_scope(data_access(collection_id))


def require_data_access(collection: Collection, token: Token | None) -> None:
    """Raise ConsentRequired unless the token may touch the collection's data."""
    if collection.requires_data_access and not has_data_access(token, collection.id):
        raise ConsentRequired(collection.id)
