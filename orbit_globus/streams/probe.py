"""Is the initiator access point there, and does it know this conf's LAN secret?

The probe connects over TCP and sends a GSLA HELLO (SPEC 4). The access point's CHALLENGE
says whether it serves the tunnel, and its proof whether it holds the same secret. The
probe then closes without sending RESPONSE: nothing reaches the listening application,
which a completed handshake would have connected to.
"""

from __future__ import annotations

import socket
import time

from orbit_globus.lan import ClientHandshake, PeerMisbehaved, RefusedByPeer, Status
from orbit_globus.lan.sockets import HandshakeTimeout, read_exactly

from .conf import TunnelConf
from .contact import parse_host_port
from .errors import StreamsError

DEFAULT_TIMEOUT = 5.0


def _reinitialize(conf: TunnelConf) -> str:
    return f"run: globus-streams environment initialize --force {conf.tunnel_id}"


def _refusal(conf: TunnelConf, contact: str, status: Status) -> str:
    tid = conf.tunnel_id
    reasons = {
        Status.STALE_SECRET: (
            f"the access point {contact} says the conf's LAN secret was replaced or revoked "
            f"(STALE_SECRET); {_reinitialize(conf)}"
        ),
        Status.AUTH_FAILED: (
            f"the access point {contact} does not accept the conf's LAN secret (AUTH_FAILED); "
            f"{_reinitialize(conf)}"
        ),
        Status.UNKNOWN_TUNNEL: (
            f"the access point {contact} does not serve tunnel {tid} (UNKNOWN_TUNNEL); its "
            f"contact may have moved: globus-streams environment contact-lookup --refresh {tid}"
        ),
        Status.TUNNEL_NOT_ACTIVE: (
            f"the access point {contact} says tunnel {tid} is not active (TUNNEL_NOT_ACTIVE)"
        ),
    }
    return reasons.get(
        status, f"the access point {contact} refused the LAN handshake ({status.name})"
    )


def probe_access_point(
    conf: TunnelConf, contact: str, timeout: float = DEFAULT_TIMEOUT
) -> str | None:
    """None when the access point at `contact` would take this conf's connections; else why not."""
    try:
        host, port = parse_host_port(contact)
    except StreamsError as err:
        return str(err)
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        return f"the access point {contact} refuses connections (nothing listens there)"
    except TimeoutError:
        return f"no TCP answer from the access point {contact} within {timeout:g} s (blackholed?)"
    except OSError as err:
        return f"cannot connect to the access point {contact}: {err.strerror or err}"
    with sock:
        if not conf.lankey:  # the access point secures nothing: a connection is all it takes
            return None
        handshake = ClientHandshake(
            tunnel_id=conf.tunnel_id, secret=conf.lankey, secret_id=conf.lankey_id
        )
        try:
            sock.sendall(handshake.start())
            handshake.receive(read_exactly(sock, handshake.bytes_needed, deadline))
        except HandshakeTimeout:
            return (
                f"the access point {contact} accepted the connection but sent no LAN "
                f"handshake answer within {timeout:g} s (blackholed or stalled?)"
            )
        except RefusedByPeer as err:
            return _refusal(conf, contact, err.status)
        except PeerMisbehaved as err:
            if err.status is Status.AUTH_FAILED:  # its proof does not match our secret
                return _refusal(conf, contact, Status.AUTH_FAILED)
            return f"the access point {contact} sent a malformed LAN handshake message ({err})"
        except OSError as err:  # reset, closed (ConnectionError is an OSError)
            return f"the access point {contact} closed the LAN handshake ({err.strerror or err})"
    return None
