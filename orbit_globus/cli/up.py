"""`globus-streams up`: a working tunnel in one command, for batch jobs and scripts.

create -> initialize the listener side -> initialize the initiator side -> wait for ACTIVE
-> print the contact string. All or nothing: when a step fails, the new tunnel is stopped
and the confs (and their LAN secrets) made so far are removed again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orbit_globus.streams import environment as env_ops
from orbit_globus.streams import remote
from orbit_globus.streams.conf import ROLE_INITIATOR, ROLE_LISTENER, canonical_uuid, conf_dir

from .context import Settings, pass_settings
from .environment import CS_TTL, GLOBUS_CONTACTS
from .errors import CliError, translate
from .output import emit

if TYPE_CHECKING:
    from orbit_globus.login import Globus

DEFAULT_ACTIVE_TIMEOUT = 60.0
LISTENER_SUBDIR = "listener"


@click.command()
@click.argument("initiator_ap_id")
@click.argument("listener_ap_id")
@click.option(
    "--listener-contact-string",
    required=True,
    metavar="HOST:PORT",
    help="Where the listening application listens (recorded on the tunnel).",
)
@click.option("--lifetime-mins", type=click.IntRange(min=1), help="Minutes until it stops.")
@click.option("--label", help="A name for the tunnel.")
@click.option("--restartable", is_flag=True, help="Restart the tunnel after failures.")
@GLOBUS_CONTACTS
@CS_TTL
@click.option(
    "--listener-dir",
    type=click.Path(file_okay=False),
    help=f"Conf directory of the listener side (default: {LISTENER_SUBDIR}/ inside the "
    "conf directory); the initiator side uses the conf directory itself.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_ACTIVE_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for ACTIVE (then exit 7, tunnel stopped).",
)
@pass_settings
def up(
    settings: Settings,
    initiator_ap_id: str,
    listener_ap_id: str,
    listener_contact_string: str,
    lifetime_mins: int | None,
    label: str | None,
    restartable: bool,
    globus_contacts: tuple[str, ...],
    cs_ttl: int | None,
    listener_dir: str | None,
    timeout: float,
) -> None:
    """Create a tunnel and initialize both sides here; prints the contact string.

    \b
      CONTACT=$(globus-streams up AP1 AP2 --listener-contact-string 127.0.0.1:5000)
      # CONTACT is globus.<TUNNEL_ID>:<port>; the listener side's conf is in
      # <conf dir>/listener: launch the listening program with GLOBUS_STREAMS_DIR
      # set to that directory.

    With -F json it prints every id: tunnel, access points, endpoints, LAN secrets.
    """
    initiator_ap = canonical_uuid(initiator_ap_id, "initiator access point id")
    listener_ap = canonical_uuid(listener_ap_id, "listener access point id")
    env_ops.check_options(ROLE_LISTENER, listener_contact_string, (), None)
    env_ops.check_options(ROLE_INITIATOR, None, globus_contacts, cs_ttl)
    listener_base = (
        Path(listener_dir) if listener_dir else conf_dir(settings.base_dir) / LISTENER_SUBDIR
    )

    from orbit_globus.login import Globus

    globus = Globus(interactive=sys.stdin.isatty())
    created = remote.create_tunnel(
        globus,
        initiator_ap,
        listener_ap,
        label=label,
        lifetime_mins=lifetime_mins,
        restartable=restartable,
    )
    tid = str(created["id"])
    dirs = (listener_base, settings.base_dir)
    try:
        listener = env_ops.initialize(
            globus, tid, listener_contact=listener_contact_string, base_dir=listener_base
        )
        initiator = env_ops.initialize(
            globus, tid, globus_contacts=globus_contacts, cs_ttl=cs_ttl, base_dir=settings.base_dir
        )
        tunnel = remote.wait_for_state(globus, tid, "ACTIVE", timeout)
        connector = initiator.conf.connector_contact_string
        if connector is None:  # initialized before ACTIVE: store the contact now
            connector = env_ops.refresh_contact(initiator.conf, globus)
    except BaseException as err:
        _undo(globus, tid, dirs)
        failure = translate(err) if isinstance(err, Exception) else err
        if isinstance(failure, CliError):
            raise CliError(
                f"{failure.format_message()} (tunnel {tid} stopped again)",
                failure.exit_code,
                kind=failure.kind,
            ) from None
        raise

    data = {
        "tunnel_id": tid,
        "state": tunnel.state,
        "contact_string": initiator.contact_string,
        "connector_contact_string": connector,
        "initiator_access_point_id": initiator_ap,
        "listener_access_point_id": listener_ap,
        "initiator": initiator.to_json(),
        "listener": listener.to_json(),
    }
    if not settings.json and sys.stderr.isatty():
        click.echo(
            f"tunnel {tid} is {tunnel.state}; listener conf in {listener.conf.path.parent}",
            err=True,
        )
    emit(settings, data, initiator.contact_string)


def _undo(globus: Globus, tunnel_id: str, dirs: tuple[Path | str | None, ...]) -> None:
    """Best effort: stop the tunnel and remove the confs and secrets made for it."""
    import logging

    log = logging.getLogger(__name__)
    for base_dir in dirs:
        try:
            env_ops.cleanup(lambda: globus, [tunnel_id], force=True, base_dir=base_dir)
        except Exception as err:  # no conf there yet is the common case
            log.debug("undo: no conf for %s in %s (%s)", tunnel_id, base_dir, err)
    try:
        remote.stop_tunnel(globus, tunnel_id)
    except Exception as err:
        log.debug("undo: could not stop tunnel %s: %s", tunnel_id, err)
