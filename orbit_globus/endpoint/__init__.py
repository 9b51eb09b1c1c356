"""The endpoint host: an ASGI app serving plugins, and the client applications use."""

from .client import EndpointClient

__all__ = ["EndpointClient"]
