"""LAN authentication protocol GSLA v1: sans-IO state machines plus a blocking-socket runner."""

from .handshake import (
    ClientHandshake,
    Credential,
    HandshakeError,
    PeerMisbehaved,
    RefusedByPeer,
    ServerHandshake,
    State,
    lookup_for,
)
from .messages import Challenge, Hello, MalformedMessage, Response, Result, Role, Status
from .sockets import HandshakeTimeout, client_handshake, server_handshake

__all__ = [
    "Challenge",
    "ClientHandshake",
    "Credential",
    "HandshakeError",
    "HandshakeTimeout",
    "Hello",
    "MalformedMessage",
    "PeerMisbehaved",
    "RefusedByPeer",
    "Response",
    "Result",
    "Role",
    "ServerHandshake",
    "State",
    "Status",
    "client_handshake",
    "lookup_for",
    "server_handshake",
]
