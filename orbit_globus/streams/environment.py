"""The `environment` operations: initialize, contact lookup, update, cleanup.

They take a `Globus` (orbit_globus.login) for the network, built only when needed: a
contact lookup with a fresh conf never imports globus-sdk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from . import remote
from .conf import (
    KNOWN_KEYS,
    ROLE_INITIATOR,
    ROLE_LISTENER,
    TunnelConf,
    canonical_tunnel_id,
    iter_confs,
)
from .contact import format_host_port, parse_host_port
from .errors import ExitCode, StreamsError
from .tunnel_doc import Tunnel

if TYPE_CHECKING:
    import logging

    from orbit_globus.login import Globus

DEFAULT_CS_TTL = 60
FAKE_PORT_RANGE = (1025, 9999)
# cleanup deletes secrets as a courtesy: one retry, then a warning, then the next conf.
CLEANUP_RETRIES = 1

GlobusFactory = Callable[[], "Globus"]
StatusFactory = Callable[[str], AbstractContextManager[object]]


def _log() -> logging.Logger:
    import logging  # only on the network paths: it costs start-up time

    return logging.getLogger(__name__)


def _no_status(_text: str) -> AbstractContextManager[object]:
    return contextlib.nullcontext()


BaseDir = str | os.PathLike[str] | None


@dataclasses.dataclass
class InitResult:
    conf: TunnelConf
    tunnel: Tunnel
    contact_string: str | None  # initiator side: globus.<tunnel_id>:<fake_port>
    note: str | None = None  # e.g. the tunnel is not ACTIVE yet

    def to_json(self) -> dict[str, Any]:
        conf = self.conf
        return {
            "tunnel_id": conf.tunnel_id,
            "role": conf.role,
            "conf_file": str(conf.path),
            "endpoint_id": conf.endpoint_id,
            "lankey_id": conf.lankey_id,
            "contact_string": self.contact_string,
            "connector_contact_string": conf.connector_contact_string,
            "globus_contact": conf.globus_contacts,
            "listener_contact_string": conf.listener_contact_string,
            "tunnel_expiration_time": conf.tunnel_expiration_time,
            "tunnel_state": self.tunnel.state,
        }


# -- initialize ---------------------------------------------------------------------------


def initialize(
    globus: Globus,
    tunnel_id: str,
    endpoint_id: str | None = None,
    *,
    listener_contact: str | None = None,
    listener: bool = False,
    globus_contacts: Sequence[str] = (),
    cs_ttl: int | None = None,
    force: bool = False,
    base_dir: BaseDir = None,
    now: Callable[[], float] = time.time,
    status: StatusFactory = _no_status,
) -> InitResult:
    """Prepare this side of a tunnel: listener contact, a LAN secret, the conf file.

    `status(text)` is a context manager shown while waiting (the CLI passes a spinner).
    """
    tid = canonical_tunnel_id(tunnel_id)
    role = ROLE_LISTENER if listener or listener_contact else ROLE_INITIATOR
    check_options(role, listener_contact, globus_contacts, cs_ttl)
    old = TunnelConf.load_if_exists(tid, base_dir)
    if old is not None and not force:
        raise StreamsError(
            f"tunnel {tid} is already initialized here ({old.path}); "
            "pass --force to replace it (its LAN secret is deleted first)"
        )

    tunnel = remote.fetch_tunnel(globus, tid)
    if tunnel.finished:
        raise StreamsError(f"tunnel {tid} is {tunnel.state}; create a new tunnel")
    access_point = tunnel.listener_ap if role == ROLE_LISTENER else tunnel.initiator_ap
    if not access_point:
        raise StreamsError(f"tunnel {tid} names no {role} stream access point")
    endpoint = str(endpoint_id) if endpoint_id else remote.host_endpoint_of(globus, access_point)
    globus.gcs(endpoint)  # address and consent first: fail before anything changes

    if old is not None and old.lankey_id:
        # Revoke before rotating: the old secret must not outlive this conf.
        deleted = remote.delete_lan_secret(globus, old.endpoint_id or endpoint, old.lankey_id)
        _log().info("old LAN secret %s %s", old.lankey_id, "deleted" if deleted else "gone")
    if role == ROLE_LISTENER:
        tunnel = _register_listener(globus, tunnel, listener_contact)

    lankey, lankey_id = remote.create_lan_secret(globus, endpoint, tid, access_point)
    conf = TunnelConf.new(tid, base_dir)
    if old is not None:  # keep the keys a newer version wrote
        conf.values = {k: v for k, v in old.values.items() if k not in KNOWN_KEYS}
    lifetime = tunnel.lifetime_mins
    conf.set(
        role=role,
        lankey=lankey,
        lankey_id=lankey_id,
        endpoint_id=endpoint,
        tunnel_expiration_time=int(now() + lifetime * 60) if lifetime else None,
    )
    if role == ROLE_LISTENER:
        # What we recorded, normalized; not the answer, which may omit it.
        recorded = (
            format_host_port(*parse_host_port(listener_contact)) if listener_contact else None
        )
        conf.set(listener_contact_string=recorded or tunnel.listener_contact)
        result = InitResult(conf=conf, tunnel=tunnel, contact_string=None)
    else:
        fake_port = (old.fake_port if old else None) or _random_fake_port()
        with status(f"Waiting for tunnel {tid} to become ACTIVE"):
            if tunnel.listener_contact:  # ACTIVE is imminent: worth a short wait
                tunnel = remote.wait_for_active(globus, tunnel)
        result = _initiator_side(conf, tunnel, fake_port, globus_contacts, cs_ttl, now)
    conf.save()
    return result


def check_options(
    role: str, listener_contact: str | None, globus_contacts: Sequence[str], cs_ttl: int | None
) -> None:
    """Refuse bad input before any network call."""
    if listener_contact:
        parse_host_port(listener_contact, what="listener contact string")
    for contact in globus_contacts:
        parse_host_port(contact, what="--globus-contact")
    if role == ROLE_LISTENER and globus_contacts:
        raise StreamsError("--globus-contact applies to the initiator side only")
    if cs_ttl is not None and cs_ttl < 0:
        raise StreamsError("--cs-ttl must be zero or more seconds")


def _register_listener(globus: Globus, tunnel: Tunnel, listener_contact: str | None) -> Tunnel:
    """Record the listener's contact on the tunnel, or check that one is there already."""
    if listener_contact:
        host, port = parse_host_port(listener_contact)
        return remote.record_listener(globus, tunnel.id, host, port)
    if tunnel.listener_contact is None:
        raise StreamsError(
            f"tunnel {tunnel.id} has no listener contact; pass --listener-contact-string HOST:PORT"
        )
    return tunnel


def _initiator_side(
    conf: TunnelConf,
    tunnel: Tunnel,
    fake_port: int,
    globus_contacts: Sequence[str],
    cs_ttl: int | None,
    now: Callable[[], float],
) -> InitResult:
    """The initiator's keys: the access point contact once ACTIVE (never a `None:None`)."""
    contact = tunnel.initiator_contact
    conf.set(
        connector_contact_string=contact,
        update_time=int(now()) if contact else None,
        connector_contact_string_ttl=DEFAULT_CS_TTL if cs_ttl is None else cs_ttl,
        fake_port=fake_port,
        globus_contact=",".join(globus_contacts) or None,
    )
    note = None
    if contact is None:
        note = (
            f"tunnel {tunnel.id} is {tunnel.state}; the initiator contact is fetched "
            "when the application connects"
        )
    return InitResult(
        conf=conf, tunnel=tunnel, contact_string=f"globus.{tunnel.id}:{fake_port}", note=note
    )


def _random_fake_port() -> int:
    low, high = FAKE_PORT_RANGE
    return low + secrets.randbelow(high - low + 1)


# -- contact lookup -----------------------------------------------------------------------


def lookup_contact(
    tunnel_id: str,
    *,
    skip_update: bool = False,
    refresh: bool = False,
    base_dir: BaseDir = None,
    globus_factory: GlobusFactory | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """The initiator access point's `ip:port`, refreshed from Transfer when stale.

    `refresh` fetches it even within its TTL: a restarted tunnel moves its access point
    before the TTL ends (the intercept library asks for this when the stored one refuses).
    """
    if refresh and skip_update:
        raise StreamsError("--refresh and --skip-update exclude each other; pass one")
    conf = TunnelConf.load(tunnel_id, base_dir)
    if conf.is_listener:
        raise StreamsError(
            f"tunnel {conf.tunnel_id} is initialized as the listener here; "
            "contact-lookup is for the initiator side"
        )
    contact = conf.connector_contact_string
    if skip_update or (not refresh and conf.contact_is_fresh(now())):
        if not contact:
            raise StreamsError(
                f"no initiator contact stored for tunnel {conf.tunnel_id}; "
                "run contact-lookup without --skip-update"
            )
        return contact
    return refresh_contact(conf, _factory(globus_factory)(), now=now)


def refresh_contact(
    conf: TunnelConf, globus: Globus, *, now: Callable[[], float] = time.time
) -> str:
    tunnel = remote.wait_for_active(globus, remote.fetch_tunnel(globus, conf.tunnel_id))
    contact = tunnel.initiator_contact
    if contact is None and tunnel.finished:
        raise StreamsError(
            f"tunnel {conf.tunnel_id} is {tunnel.state} and carries no more connections; "
            f"create a new tunnel (globus-streams environment cleanup {conf.tunnel_id} "
            "removes this conf)"
        )
    if contact is None:
        raise StreamsError(
            f"tunnel {conf.tunnel_id} is {tunnel.state}; it has no initiator contact yet "
            "(has the listener side run environment initialize?)"
        )
    conf.set(connector_contact_string=contact, update_time=int(now()))
    conf.save()
    return contact


def _factory(globus_factory: GlobusFactory | None) -> GlobusFactory:
    if globus_factory is not None:
        return globus_factory
    from orbit_globus.login import Globus

    return Globus


# -- update -------------------------------------------------------------------------------


def update(
    globus_factory: GlobusFactory,
    tunnel_id: str,
    *,
    listener_contact: str | None = None,
    cs_ttl: int | None = None,
    base_dir: BaseDir = None,
) -> TunnelConf:
    """Change the listener contact or the TTL; on the initiator side also refresh the contact."""
    conf = TunnelConf.load(tunnel_id, base_dir)
    if cs_ttl is not None:
        if cs_ttl < 0:
            raise StreamsError("--cs-ttl must be zero or more seconds")
        conf.set(connector_contact_string_ttl=cs_ttl)
    if listener_contact:
        if not conf.is_listener:
            raise StreamsError(
                f"tunnel {conf.tunnel_id} is initialized as the initiator here; "
                "--listener-contact-string applies to the listener side"
            )
        host, port = parse_host_port(listener_contact, what="listener contact string")
        remote.record_listener(globus_factory(), conf.tunnel_id, host, port)
        conf.set(listener_contact_string=format_host_port(host, port))
    conf.save()  # the new TTL holds even if the refresh below fails
    if not conf.is_listener:
        refresh_contact(conf, globus_factory())
    return conf


# -- cleanup ------------------------------------------------------------------------------


@dataclasses.dataclass
class CleanupReport:
    removed: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)
    secrets_deleted: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    # Why each conf was removed or kept: "expired", "forced", "STOPPED at Transfer",
    # "deleted at Transfer", "not expired".
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _TransferStates:
    """Asks Transfer for a tunnel's state; after one failure it stops asking (and says so)."""

    def __init__(self, globus: Callable[[], Globus], report: CleanupReport) -> None:
        self._globus = globus
        self._report = report
        self._usable = True

    def finished_reason(self, tunnel_id: str) -> str | None:
        """Why the tunnel carries nothing any more ("STOPPED at Transfer", ...), else None."""
        if not self._usable:
            return None
        try:
            tunnel = remote.fetch_tunnel(self._globus(), tunnel_id)
        except StreamsError as err:
            if err.exit_code == ExitCode.NOT_FOUND and err.kind != "denied":
                return "deleted at Transfer"
            self._give_up(err)
            return None
        except Exception as err:  # network down, bad credentials: keep what has not expired
            self._give_up(err)
            return None
        return f"{tunnel.state} at Transfer" if tunnel.finished else None

    def _give_up(self, err: Exception) -> None:
        self._usable = False
        self._report.warnings.append(
            f"could not ask Transfer for tunnel states ({_reason(err)}); "
            "confs that have not expired are kept"
        )


def cleanup(
    globus_factory: GlobusFactory,
    tunnel_ids: Iterable[str] | None,
    *,
    force: bool = False,
    base_dir: BaseDir = None,
    now: Callable[[], float] = time.time,
) -> CleanupReport:
    """Remove the selected confs whose tunnel is over, and delete their secrets.

    A conf goes when its tunnel's lifetime has passed, when Transfer says the tunnel is
    stopped or no longer exists (deleted, or not visible to these credentials), or with
    `force`. `tunnel_ids=None` means every conf in the directory.
    """
    report = CleanupReport()
    explicit = tunnel_ids is not None
    ids = [canonical_tunnel_id(t) for t in tunnel_ids] if explicit else list(iter_confs(base_dir))
    globus: Globus | None = None

    def get_globus() -> Globus:
        nonlocal globus
        globus = globus or globus_factory()
        return globus

    states = _TransferStates(get_globus, report)
    for tid in ids:
        try:
            conf = TunnelConf.load(tid, base_dir)
        except StreamsError as err:
            if explicit:
                raise
            report.warnings.append(str(err))
            continue
        if force:
            reason = "forced"
        elif conf.is_expired(now()):
            reason = "expired"
        else:
            reason = states.finished_reason(tid)
        if reason is None:
            report.kept.append(tid)
            report.reasons[tid] = "not expired"
            continue
        if conf.lankey_id and conf.endpoint_id:
            try:
                if remote.delete_lan_secret(
                    get_globus(), conf.endpoint_id, conf.lankey_id, max_retries=CLEANUP_RETRIES
                ):
                    report.secrets_deleted.append(tid)
            except Exception as err:  # best effort: the GCS may be gone for good
                report.warnings.append(
                    f"could not delete the LAN secret of tunnel {tid}: {_reason(err)}"
                )
        conf.remove()
        report.removed.append(tid)
        report.reasons[tid] = reason
    return report


def _reason(err: Exception) -> str:
    if isinstance(err, StreamsError):
        return str(err)
    status = getattr(err, "http_status", None)
    if status is not None:
        return f"{status} {getattr(err, 'code', '')}".strip()
    return err.__class__.__name__
