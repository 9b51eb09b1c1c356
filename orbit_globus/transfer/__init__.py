"""The orbit ``globus`` transfer plugin (SPEC 6): GlobusSession, GlobusClient, Plugin."""

from .client import GlobusClient
from .errors import (
    AuthenticationError,
    BadRequestError,
    ConsentRequiredError,
    ForbiddenError,
    NotFoundError,
    PluginError,
    UpstreamError,
)
from .events import Notification
from .plugin import Plugin
from .session import GlobusSession

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConsentRequiredError",
    "ForbiddenError",
    "GlobusClient",
    "GlobusSession",
    "Notification",
    "NotFoundError",
    "Plugin",
    "PluginError",
    "UpstreamError",
]
