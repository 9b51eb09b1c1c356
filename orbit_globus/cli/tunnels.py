"""`globus-streams tunnel ...`: create, inspect, stop and delete tunnels (Transfer /v2)."""

from __future__ import annotations

from typing import Any

import click

from orbit_globus.streams import remote
from orbit_globus.streams.conf import canonical_tunnel_id, canonical_uuid
from orbit_globus.streams.tunnel_doc import Tunnel

from .context import Settings, pass_settings
from .output import emit, print_fields, print_table


def _globus():  # -> orbit_globus.login.Globus
    from orbit_globus.login import Globus

    return Globus()


@click.group()
def tunnel() -> None:
    """Create and manage Globus Streams tunnels."""


@tunnel.command()
@click.argument("initiator_ap_id")
@click.argument("listener_ap_id")
@click.option("--label", help="A name for the tunnel.")
@click.option("--lifetime-mins", type=click.IntRange(min=1), help="Minutes until it stops.")
@click.option("--restartable", is_flag=True, help="Restart the tunnel after failures.")
@pass_settings
def create(
    settings: Settings,
    initiator_ap_id: str,
    listener_ap_id: str,
    label: str | None,
    lifetime_mins: int | None,
    restartable: bool,
) -> None:
    """Create a tunnel from INITIATOR_AP_ID to LISTENER_AP_ID; prints its id."""
    data = remote.create_tunnel(
        _globus(),
        canonical_uuid(initiator_ap_id, "initiator access point id"),
        canonical_uuid(listener_ap_id, "listener access point id"),
        label=label,
        lifetime_mins=lifetime_mins,
        restartable=restartable,
    )
    emit(settings, data, str(data["id"]))


@tunnel.command("list")
@pass_settings
def list_(settings: Settings) -> None:
    """List your tunnels."""
    docs = list(_globus().transfer.list_tunnels())
    rows = []
    for doc in docs:
        t = Tunnel.from_doc(doc)
        rows.append((t.id, t.label, t.state, t.initiator_ap, t.listener_ap))
    emit(
        settings,
        docs,
        lambda: print_table(None, ("ID", "Label", "State", "Initiator AP", "Listener AP"), rows),
    )


@tunnel.command()
@click.argument("tunnel_id")
@pass_settings
def show(settings: Settings, tunnel_id: str) -> None:
    """Show one tunnel."""
    data = remote.get_tunnel_doc(_globus(), canonical_tunnel_id(tunnel_id))
    emit(settings, data, lambda: _print_tunnel(data))


@tunnel.command()
@click.argument("tunnel_id")
@click.option("--label", help="A new name for the tunnel.")
@click.option(
    "--lifetime-mins",
    type=click.IntRange(min=1),
    help="A new lifetime in minutes, counted from the tunnel's creation.",
)
@pass_settings
def update(
    settings: Settings, tunnel_id: str, label: str | None, lifetime_mins: int | None
) -> None:
    """Change a tunnel's label or lifetime; prints the updated tunnel."""
    from globus_sdk import MISSING
    from globus_sdk.experimental import TunnelUpdateDocument

    if label is None and lifetime_mins is None:
        raise click.UsageError("nothing to update: pass --label and/or --lifetime-mins")
    tid = canonical_tunnel_id(tunnel_id)
    doc = TunnelUpdateDocument(
        label=label if label is not None else MISSING,
        # The SDK's document has no field for it; Transfer's PATCH takes it.
        additional_fields={"lifetime_mins": lifetime_mins} if lifetime_mins else None,
    )
    with remote.tunnel_errors(tid):
        data = _globus().transfer.update_tunnel(tid, doc).data["data"]
    emit(settings, data, lambda: _print_tunnel(data))


@tunnel.command()
@click.argument("tunnel_id")
@click.option(
    "--state",
    type=click.Choice(remote.TUNNEL_STATES, case_sensitive=False),
    default="ACTIVE",
    metavar="STATE",
    help="ACTIVE (default), AWAITING_LISTENER, STOPPING or STOPPED; a STOPPED tunnel "
    "has also reached STOPPING.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Give up after this long (exit 7); default: wait as long as the tunnel lives.",
)
@pass_settings
def wait(settings: Settings, tunnel_id: str, state: str, timeout: float | None) -> None:
    """Block until a tunnel reaches a state; prints the tunnel's state.

    Exits 0 once the tunnel is in the state, 7 when --timeout passes first, 1 at once
    when the tunnel can no longer reach it (waiting for ACTIVE on a STOPPED tunnel).
    Transfer pushes no tunnel events, so this asks Transfer after 0.1 s, 0.25 s and
    0.5 s, then once a second, over one connection: no busy loop, no shell loop.
    """
    tid = canonical_tunnel_id(tunnel_id)
    reached = remote.wait_for_state(_globus(), tid, state.upper(), timeout)
    data = {"id": reached.id, "state": reached.state}
    emit(settings, data, f"tunnel {reached.id} is {reached.state}")


@tunnel.command()
@click.argument("tunnel_id")
@pass_settings
def stop(settings: Settings, tunnel_id: str) -> None:
    """Stop a tunnel (it stays listed until deleted)."""
    tid = canonical_tunnel_id(tunnel_id)
    data = remote.stop_tunnel(_globus(), tid)
    emit(settings, data, f"stopping tunnel {tid}")


@tunnel.command()
@click.argument("tunnel_id")
@pass_settings
def delete(settings: Settings, tunnel_id: str) -> None:
    """Delete a tunnel."""
    tid = canonical_tunnel_id(tunnel_id)
    with remote.tunnel_errors(tid):
        _globus().transfer.delete_tunnel(tid)
    emit(settings, {"id": tid, "deleted": True}, f"deleted tunnel {tid}")


@tunnel.command()
@click.argument("tunnel_id")
@pass_settings
def events(settings: Settings, tunnel_id: str) -> None:
    """List a tunnel's events."""
    tid = canonical_tunnel_id(tunnel_id)
    with remote.tunnel_errors(tid):
        docs = list(_globus().transfer.get_tunnel_events(tid))
    rows = []
    for doc in docs:
        a = doc.get("attributes") or {}
        rows.append(
            (a.get("time"), a.get("code"), "yes" if a.get("is_error") else "", a.get("details"))
        )
    emit(settings, docs, lambda: print_table(None, ("Time", "Code", "Error", "Details"), rows))


def _print_tunnel(data: dict[str, Any]) -> None:
    t = Tunnel.from_doc(data)
    a = data.get("attributes") or {}
    print_fields(
        {
            "ID": t.id,
            "Label": t.label,
            "State": t.state,
            "Status": a.get("status"),
            "Initiator AP": t.initiator_ap,
            "Listener AP": t.listener_ap,
            "Initiator contact": t.initiator_contact,
            "Listener contact": t.listener_contact,
            "Lifetime (mins)": t.lifetime_mins,
            "Restartable": a.get("restartable"),
            "Created": a.get("created_time"),
        }
    )
