"""Credentials for the CLI: client credentials or a stored, refreshed native-app login."""

from .app import make_app, uses_client_credentials
from .clients import Globus
from .identity import whoami

__all__ = ["Globus", "make_app", "uses_client_credentials", "whoami"]
