"""`globus-streams doctor`: why would a tunnel connection fail, or do nothing at all?

Each check returns findings (orbit_globus.streams.findings); an empty list means it found
nothing. The checks run in the order a connection needs them: the conf and its
permissions, the tunnel's lifetime and state, the access point, the program, the
environment. Transfer is asked only through `fetch_tunnel`, which the caller supplies, so
the local checks run without a login.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .conf import ROLE_INITIATOR, ROLE_LISTENER, TunnelConf, canonical_tunnel_id, iter_confs
from .contact import parse_host_port
from .errors import StreamsError
from .findings import Finding, blocking, warning
from .launch_plan import expired_message, format_time, uninitialized_message
from .probe import DEFAULT_TIMEOUT, probe_access_point
from .programs import inspect_program, resolve_program
from .tunnel_doc import ACTIVE, Tunnel
from .variables import check_variables

# Warn when the tunnel ends this soon (a job started now may outlive it).
EXPIRY_WARNING_SECONDS = 15 * 60
TunnelFetcher = Callable[[str], Tunnel]


class StateUnavailable(StreamsError):
    """Transfer could not be asked (network, login): the state is unknown, not bad."""


@dataclasses.dataclass
class Report:
    tunnel_ids: list[str]
    findings: list[Finding] = dataclasses.field(default_factory=list)
    checked: list[str] = dataclasses.field(default_factory=list)

    @property
    def blocks(self) -> bool:
        return any(f.blocks for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "tunnel_ids": self.tunnel_ids,
            "ok": not self.blocks,
            "checked": self.checked,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclasses.dataclass
class Doctor:
    conf_dir: Path
    fetch_tunnel: TunnelFetcher | None  # None: Transfer is not asked (not logged in)
    env: Mapping[str, str] = dataclasses.field(default_factory=lambda: dict(os.environ))
    timeout: float = DEFAULT_TIMEOUT
    now: Callable[[], float] = time.time

    def run(self, tunnel_id: str | None, command: Sequence[str] = ()) -> Report:
        ids = [canonical_tunnel_id(tunnel_id)] if tunnel_id else list(iter_confs(self.conf_dir))
        report = Report(tunnel_ids=ids)
        if not ids:
            report.findings.append(
                blocking("conf", f"no tunnel is initialized here (no conf in {self.conf_dir}); "
                         "run: globus-streams environment initialize TUNNEL_ID")
            )  # fmt: skip
        for tid in ids:
            report.findings += self.check_tunnel(tid)
        report.checked += ["conf", "permissions", "expiry", "tunnel", "access-point"]
        if command:
            report.findings += self.check_program(command[0])
            report.checked.append("program")
        report.findings += check_variables(self.env)
        report.checked.append("variables")
        return report

    # -- one tunnel ------------------------------------------------------------------------

    def check_tunnel(self, tid: str) -> list[Finding]:
        conf, findings = self.check_conf(tid)
        tunnel = None
        if self.fetch_tunnel is not None:
            tunnel, more = self.check_state(tid, conf)
            findings += more
        elif conf is not None:
            findings.append(
                warning("tunnel", "the tunnel's state was not checked (not logged in); run: "
                        "globus-streams login, or set the client credentials", tid)
            )  # fmt: skip
        if conf is not None and not conf.is_listener and not any(f.blocks for f in findings):
            findings += self.check_access_point(conf, tunnel)
        return findings

    def check_conf(self, tid: str) -> tuple[TunnelConf | None, list[Finding]]:
        """The conf as the library will find it: present, private, readable, in date."""
        path = TunnelConf.new(tid, self.conf_dir).path
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None, [blocking("conf", uninitialized_message(tid, path), tid)]
        except OSError as err:
            return None, [blocking("conf", f"cannot read {path}: {err.strerror}", tid)]
        if stat.S_ISLNK(st.st_mode):
            return None, [blocking("permissions", f"{path} is a symbolic link; the library "
                                   "refuses it: replace it with the file itself", tid)]  # fmt: skip
        try:  # the same reader, and refusals, as the CLI and the launcher
            conf = TunnelConf.load(tid, self.conf_dir)
        except StreamsError as err:
            check = "permissions" if "refusing" in str(err) else "conf"
            return None, [blocking(check, str(err), tid)]
        findings = self._conf_contents(conf)
        dir_mode = stat.S_IMODE(os.stat(self.conf_dir).st_mode)
        if dir_mode & 0o022:
            findings.append(
                warning("permissions", f"{self.conf_dir} is writable by group or others "
                        f"(mode {dir_mode:04o}): they could replace the conf; run: "
                        f"chmod 700 {self.conf_dir}", tid)
            )  # fmt: skip
        return conf, findings

    def _conf_contents(self, conf: TunnelConf) -> list[Finding]:
        tid, findings = conf.tunnel_id, []
        if conf.role not in (ROLE_INITIATOR, ROLE_LISTENER):
            findings.append(
                warning("conf", f"{conf.path} has role {conf.role or '(none)'!r}: it is "
                        "used as the initiator side", tid)
            )  # fmt: skip
        if conf.is_expired(self.now()):
            findings.append(blocking("expiry", expired_message(conf), tid))
        elif conf.tunnel_expiration_time is not None:
            left = conf.tunnel_expiration_time - self.now()
            if left < EXPIRY_WARNING_SECONDS:
                findings.append(
                    warning("expiry", f"tunnel {tid} ends in {int(left // 60)} min "
                            f"({format_time(conf.tunnel_expiration_time)})", tid)
                )  # fmt: skip
        if conf.is_listener:
            try:
                parse_host_port(conf.listener_contact_string or "")
            except StreamsError:
                findings.append(
                    warning("conf", f"{conf.path} has no usable listener_contact_string: "
                            "start the program with globus-streams-launch.sh -p PORT", tid)
                )  # fmt: skip
        return findings

    def check_state(self, tid: str, conf: TunnelConf | None) -> tuple[Tunnel | None, list[Finding]]:
        """The tunnel as Transfer sees it; a failure to ask is a warning, not a verdict."""
        assert self.fetch_tunnel is not None
        try:
            tunnel = self.fetch_tunnel(tid)
        except StateUnavailable as err:
            return None, [warning("tunnel", f"the tunnel's state was not checked: {err}", tid)]
        except StreamsError as err:  # not found, denied: no connection can succeed
            return None, [blocking("tunnel", str(err), tid)]
        findings = []
        if tunnel.finished:
            findings.append(
                blocking("tunnel", f"tunnel {tid} is {tunnel.state}: its connections are "
                         "refused; use a new tunnel (globus-streams tunnel create ...)", tid)
            )  # fmt: skip
        elif tunnel.state != ACTIVE:
            waiting = (
                "the listener side is not initialized: run globus-streams environment "
                f"initialize --listener-contact-string HOST:PORT {tid} there"
                if tunnel.listener_contact is None
                else f"wait: globus-streams tunnel wait {tid} --state ACTIVE"
            )
            findings.append(
                blocking("tunnel", f"tunnel {tid} is {tunnel.state}, not ACTIVE; {waiting}", tid)
            )
        if conf is not None and conf.is_listener and tunnel.listener_contact:
            recorded = conf.listener_contact_string
            if recorded and recorded != tunnel.listener_contact:
                findings.append(
                    warning("tunnel", f"Transfer sends connections to {tunnel.listener_contact} "
                            f"but the conf says {recorded}; run: globus-streams environment "
                            f"update {tid} --listener-contact-string HOST:PORT", tid)
                )  # fmt: skip
        return tunnel, findings

    def check_access_point(self, conf: TunnelConf, tunnel: Tunnel | None) -> list[Finding]:
        """Initiator side: the contact the library would end up using answers the handshake."""
        contact = (tunnel.initiator_contact if tunnel else None) or conf.connector_contact_string
        if not contact:
            return []  # no contact yet: the tunnel check has said why
        problem = probe_access_point(conf, contact, self.timeout)
        return [blocking("access-point", problem, conf.tunnel_id)] if problem else []

    # -- the program and the environment ---------------------------------------------------

    def check_program(self, command: str) -> list[Finding]:
        path = self.env.get("PATH")
        if resolve_program(command, path) is None:
            return [blocking("program", f"{command} is not found (PATH of this shell)")]
        return [
            (blocking if f.blocking else warning)("program", str(f))
            for f in inspect_program(command, path)
        ]
