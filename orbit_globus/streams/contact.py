"""`host:port` contact strings: parsing and formatting (IPv6 hosts in brackets).

As strict as the intercept library's C parser (libintercept core/contact_text.h), so
both accept the same strings: an IPv6 address only in brackets, the port plain ASCII
decimal 1-65535 without sign, spaces or leading zeros, no spaces anywhere. Host names
are allowed here (listener contacts, --globus-contact); the C side reads only numeric
addresses.
"""

from __future__ import annotations

import ipaddress
import re

from .errors import StreamsError

_PORT = re.compile(r"[1-9][0-9]{0,4}")


def parse_host_port(text: str, *, what: str = "contact string") -> tuple[str, int]:
    """Split ``host:port`` or ``[v6]:port`` into its host (no brackets) and port."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        raise StreamsError(f"bad {what} {text!r}: expected HOST:PORT with a port 1-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise StreamsError(f"bad {what} {text!r}: [{host}] is not an IPv6 address") from None
    elif ":" in host:
        raise StreamsError(f"bad {what} {text!r}: write an IPv6 host as [addr]:port")
    if not host or any(c.isspace() for c in host) or "[" in host or "]" in host:
        raise StreamsError(f"bad {what} {text!r}: expected HOST:PORT")
    return host, int(port_text)


def format_host_port(host: str, port: int) -> str:
    """The inverse of `parse_host_port`: ``[v6]:port`` for IPv6 addresses."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
