"""`globus-streams environment ...`: prepare this machine's side of a tunnel."""

from __future__ import annotations

import contextlib
import sys
from contextlib import AbstractContextManager

import click

from orbit_globus.streams import environment as env_ops
from orbit_globus.streams.conf import TunnelConf, conf_dir

from .context import Settings, pass_settings
from .output import emit

TUNNEL_ID = click.argument("tunnel_id", metavar="TUNNEL_ID")
# Initiator-side options that `environment initialize` and `up` share.
GLOBUS_CONTACTS = click.option(
    "--globus-contact",
    "globus_contacts",
    multiple=True,
    metavar="HOST:PORT",
    help="Initiator side: a name routed through this tunnel (repeatable).",
)
CS_TTL = click.option(
    "--cs-ttl",
    type=int,
    metavar="SECONDS",
    help=f"Seconds the initiator contact is trusted before it is fetched again "
    f"(default {env_ops.DEFAULT_CS_TTL}).",
)


def _globus(interactive: bool = False):  # -> orbit_globus.login.Globus
    from orbit_globus.login import Globus

    return Globus(interactive=interactive and sys.stdin.isatty())


def _spinner(text: str) -> AbstractContextManager[object]:
    """A rich spinner on stderr while the CLI waits, when a person is watching."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text)


@click.group()
def environment() -> None:
    """Initialize and maintain tunnel conf files for applications on this machine."""


@environment.command()
@TUNNEL_ID
@click.argument("endpoint_id", required=False, metavar="[ENDPOINT_ID]")
@click.option(
    "--listener-contact-string",
    metavar="HOST:PORT",
    help="Listener side: where the application listens (recorded on the tunnel).",
)
@click.option("--listener", is_flag=True, help="Listener side, contact already on the tunnel.")
@GLOBUS_CONTACTS
@CS_TTL
@click.option("--force", is_flag=True, help="Replace an existing conf (deletes its secret).")
@pass_settings
def initialize(
    settings: Settings,
    tunnel_id: str,
    endpoint_id: str | None,
    listener_contact_string: str | None,
    listener: bool,
    globus_contacts: tuple[str, ...],
    cs_ttl: int | None,
    force: bool,
) -> None:
    """Fetch a LAN secret and write TUNNEL_ID's conf (listener or initiator side).

    \b
    Listener side (where the application listens):
      globus-streams environment initialize --listener-contact-string 10.0.2.164:8888 TUNNEL_ID
    Initiator side (prints the contact string to connect to):
      globus-streams environment initialize --globus-contact myhost.com:443 TUNNEL_ID

    ENDPOINT_ID, the GCS endpoint hosting this side's access point, is looked up when
    omitted.
    """
    if not settings.json:
        click.echo(f"Initializing the environment for tunnel: {tunnel_id}")
    result = env_ops.initialize(
        _globus(interactive=True),
        tunnel_id,
        endpoint_id,
        listener_contact=listener_contact_string,
        listener=listener,
        globus_contacts=globus_contacts,
        cs_ttl=cs_ttl,
        force=force,
        base_dir=settings.base_dir,
        status=_spinner,
    )
    if result.note:
        click.echo(f"globus-streams: note: {result.note}", err=True)

    def text() -> None:
        tid = result.conf.tunnel_id
        click.echo(f"The environment is initialized for use with tunnel {tid}")
        click.echo(f"Your application key file base directory is {result.conf.path.parent}/")
        if result.contact_string:
            click.echo(f"Your contact string is: {result.contact_string}")

    emit(settings, result.to_json(), text)


@environment.command("contact-lookup")
@TUNNEL_ID
@click.option("--skip-update", is_flag=True, help="Print the stored contact; no network call.")
@click.option(
    "--refresh",
    is_flag=True,
    help="Fetch the contact from Transfer even within its TTL and rewrite the conf "
    "(a restarted tunnel's access point moves); excludes --skip-update.",
)
@pass_settings
def contact_lookup(settings: Settings, tunnel_id: str, skip_update: bool, refresh: bool) -> None:
    """Print the initiator access point's ip:port (refreshed when its TTL has passed).

    The intercept library runs this with --refresh when the stored contact refuses a
    connection before its TTL ends.
    """
    contact = env_ops.lookup_contact(
        tunnel_id, skip_update=skip_update, refresh=refresh, base_dir=settings.base_dir
    )
    emit(settings, {"tunnel_id": tunnel_id, "contact_string": contact}, contact)


@environment.command()
@TUNNEL_ID
@click.option("--listener-contact-string", metavar="HOST:PORT", help="New listener contact.")
@click.option("--cs-ttl", type=int, metavar="SECONDS", help="New contact TTL in seconds.")
@pass_settings
def update(
    settings: Settings, tunnel_id: str, listener_contact_string: str | None, cs_ttl: int | None
) -> None:
    """Change the listener contact or the contact TTL; refresh the initiator contact."""
    conf = env_ops.update(
        _globus,
        tunnel_id,
        listener_contact=listener_contact_string,
        cs_ttl=cs_ttl,
        base_dir=settings.base_dir,
    )
    emit(settings, _conf_json(conf), lambda: _print_conf(conf))


@environment.command()
@click.argument("tunnel_id", required=False, metavar="[TUNNEL_ID]")
@click.option("--all", "all_", is_flag=True, help="Every conf in the directory.")
@click.option("--force", is_flag=True, help="Also remove confs whose tunnel is still live.")
@pass_settings
def cleanup(settings: Settings, tunnel_id: str | None, all_: bool, force: bool) -> None:
    """Remove the confs of tunnels that are over and delete their LAN secrets.

    A conf goes when its tunnel's lifetime has passed, or when Transfer says the tunnel is
    stopped or gone (deleted, or not visible to these credentials); --force removes any.
    When Transfer cannot be asked, only expired confs go (with a warning).
    """
    if bool(tunnel_id) == all_:
        raise click.UsageError("name one TUNNEL_ID or pass --all")
    report = env_ops.cleanup(
        _globus, None if all_ else [tunnel_id], force=force, base_dir=settings.base_dir
    )
    for warning in report.warnings:
        click.echo(f"globus-streams: warning: {warning}", err=True)

    def text() -> None:
        for tid in report.removed:
            click.echo(f"removed {tid} ({report.reasons[tid]})")
        for tid in report.kept:
            click.echo(f"kept {tid} (not expired, not stopped; --force removes it)")
        if not report.removed and not report.kept:
            click.echo(f"nothing to clean up in {conf_dir(settings.base_dir)}")

    emit(settings, report.to_json(), text)


@environment.command()
@TUNNEL_ID
@pass_settings
def show(settings: Settings, tunnel_id: str) -> None:
    """Print TUNNEL_ID's conf with the LAN secret masked."""
    conf = TunnelConf.load(tunnel_id, settings.base_dir)
    emit(settings, _conf_json(conf), lambda: _print_conf(conf))


def _conf_json(conf: TunnelConf) -> dict[str, object]:
    return {"tunnel_id": conf.tunnel_id, "conf_file": str(conf.path), "values": conf.masked()}


def _print_conf(conf: TunnelConf) -> None:
    click.echo(f"# {conf.path}")
    for key, value in conf.masked().items():
        click.echo(f"{key}={value}")
