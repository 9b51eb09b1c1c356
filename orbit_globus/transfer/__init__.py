"""The ``globus`` transfer plugin for RADICAL Orbit (SPEC 6); needs ``orbit-globus[orbit]``.

``PluginGlobus`` is what radical.orbit's endpoint serves (entry point ``globus``),
``GlobusSession`` one client's session on the endpoint, and ``GlobusClient`` what
``EndpointRuntime.get_plugin(endpoint, "globus")`` returns once this package is imported.
"""

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
from .plugin import PluginGlobus
from .session import GlobusSession

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConsentRequiredError",
    "ForbiddenError",
    "GlobusClient",
    "GlobusSession",
    "NotFoundError",
    "PluginError",
    "PluginGlobus",
    "UpstreamError",
]
