"""`host:port` contact strings: parsing and formatting (IPv6 hosts in brackets)."""

from __future__ import annotations

from .errors import StreamsError


def parse_host_port(text: str, *, what: str = "contact string") -> tuple[str, int]:
    """Split ``host:port`` or ``[v6]:port`` into its host (no brackets) and port."""
    host, sep, port_text = text.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise StreamsError(f"bad {what} {text!r}: write an IPv6 host as [addr]:port")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise StreamsError(f"bad {what} {text!r}: expected HOST:PORT with a port 1-65535")
    return host, int(port_text)


def format_host_port(host: str, port: int) -> str:
    """The inverse of `parse_host_port`: ``[v6]:port`` for IPv6 addresses."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
