"""What a launch needs from the conf, decided once for the shell launcher and `launch()`.

`plan_launch()` reads the conf through `TunnelConf` (the CLI's own reader), so the launcher
script, `orbit_globus.streams.launch()` and the CLI give every key one meaning. It refuses
what would make every tunnel connection fail: no conf, a conf others can read, a tunnel
whose conf says it expired, a listener without a port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .conf import ROLE_INITIATOR, ROLE_LISTENER, TunnelConf, canonical_tunnel_id
from .contact import parse_host_port
from .errors import StreamsError

USAGE_EXIT = 2


class LaunchPlan:
    __slots__ = ("conf_dir", "expires", "port", "role", "tunnel_id")  # not a dataclass: start-up

    def __init__(
        self, tunnel_id: str, conf_dir: Path, role: str, port: int | None, expires: int | None
    ) -> None:
        self.tunnel_id = tunnel_id
        self.conf_dir = conf_dir
        self.role = role  # initiator or listener
        # The port whose accepted connections belong to the tunnel (listener side, or -p).
        self.port = port
        self.expires = expires  # unix seconds, from the conf

    def as_lines(self) -> list[str]:
        """`key=value` lines, the helper's output (values never contain a newline)."""
        return [
            f"tunnel_id={self.tunnel_id}",
            f"conf_dir={self.conf_dir}",
            f"role={self.role}",
            f"port={'' if self.port is None else self.port}",
            f"expires={'' if self.expires is None else self.expires}",
        ]


def uninitialized_message(tunnel_id: str, path: Path) -> str:
    return (
        f"tunnel {tunnel_id} is not initialized here (no {path}); run "
        f"'globus-streams environment initialize {tunnel_id}' on the initiator side or "
        f"'globus-streams environment initialize --listener-contact-string HOST:PORT "
        f"{tunnel_id}' on the listener side"
    )


def format_time(seconds: int) -> str:
    """Unix seconds as UTC text (the raw number when the calendar cannot hold it)."""
    from datetime import UTC, datetime  # only refusals print a time: keep start-up light

    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return f"unix time {seconds}"


def expired_message(conf: TunnelConf) -> str:
    when = format_time(conf.tunnel_expiration_time or 0)
    listener = (
        f" --listener-contact-string {conf.listener_contact_string}"
        if conf.is_listener and conf.listener_contact_string
        else (" --listener" if conf.is_listener else "")
    )
    return (
        f"tunnel {conf.tunnel_id} expired at {when} (tunnel_expiration_time in {conf.path}); "
        f"use a new tunnel, or if this one's lifetime was extended run: "
        f"globus-streams environment initialize --force{listener} {conf.tunnel_id}"
    )


def check_port(port: int) -> int:
    if not 0 < port < 65536:
        raise StreamsError(f"bad port '{port}': expected 1-65535", exit_code=USAGE_EXIT)
    return port


def plan_launch(
    tunnel_id: str,
    conf_dir: Path,
    *,
    port: int | None = None,
    now: Callable[[], float] = time.time,
) -> LaunchPlan:
    """The launch decisions for `tunnel_id` whose conf lives in `conf_dir`."""
    try:
        tid = canonical_tunnel_id(tunnel_id)
    except StreamsError as err:
        raise StreamsError(str(err), exit_code=USAGE_EXIT) from None
    if port is not None:
        check_port(port)
    conf = TunnelConf.load_if_exists(tid, conf_dir)
    if conf is None:
        raise StreamsError(uninitialized_message(tid, TunnelConf.new(tid, conf_dir).path))
    if conf.is_expired(now()):
        raise StreamsError(expired_message(conf))
    if port is None and conf.is_listener:
        contact = conf.listener_contact_string
        if not contact:
            raise StreamsError(
                f"{conf.path} has no listener_contact_string; pass the listening port with -p PORT"
            )
        try:
            port = parse_host_port(contact, what="listener_contact_string")[1]
        except StreamsError as err:
            raise StreamsError(f"{err} in {conf.path}") from None
    return LaunchPlan(
        tunnel_id=tid,
        conf_dir=conf_dir,
        role=ROLE_LISTENER if conf.is_listener else ROLE_INITIATOR,
        port=port,
        expires=conf.tunnel_expiration_time,
    )
