"""`orbit-sim fault add|list|remove`: the faults of a running `orbit-sim serve`, from the
shell, through its control API ($ORBIT_SIM_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import requests

from orbit_sim.control import SimControl, SimControlError
from orbit_sim.faults import FAULT_KINDS, fault_from_json

URL_HELP = "Control API of the running simulator (default: $ORBIT_SIM_URL)."


@contextmanager
def _control(url: str | None) -> Iterator[SimControl]:
    if not url:
        raise click.UsageError(
            "no simulator to talk to: set ORBIT_SIM_URL (orbit-sim serve writes it to its "
            "env file) or pass --url"
        )
    try:
        with SimControl(url) as control:
            yield control
    except SimControlError as err:
        raise click.ClickException(str(err).split(": ", 1)[-1]) from None
    except requests.RequestException as err:
        raise click.ClickException(f"cannot reach {url}: {type(err).__name__}") from None


def _line(doc: dict[str, object]) -> str:
    return f"{doc['id']}  {fault_from_json(doc).to_spec()}"


url_option = click.option("--url", envvar="ORBIT_SIM_URL", metavar="URL", help=URL_HELP)


@click.group()
def fault() -> None:
    """Add, list and remove faults of a running simulator (kinds: see sim/REFERENCE.md)."""


@fault.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@url_option
def add(specs: tuple[str, ...], url: str | None) -> None:
    """Add faults given as `kind:key=value,...`; prints each one's id and spec."""
    with _control(url) as control:
        for spec in specs:
            click.echo(_line(control.add_fault(spec)))


@fault.command(name="list")
@url_option
def list_(url: str | None) -> None:
    """Print the active faults, one a line: id and spec."""
    with _control(url) as control:
        for doc in control.list_faults():
            click.echo(_line(doc))


@fault.command()
@click.argument("fault_ids", nargs=-1, metavar="ID...")
@click.option("--all", "remove_all", is_flag=True, help="Remove every fault.")
@url_option
def remove(fault_ids: tuple[str, ...], remove_all: bool, url: str | None) -> None:
    """Remove faults by id (as `list` prints them), or all of them with --all."""
    if not fault_ids and not remove_all:
        raise click.UsageError("give fault ids, or --all")
    with _control(url) as control:
        if remove_all:
            control.clear_faults()
        for fault_id in fault_ids:
            control.remove_fault(fault_id)


@fault.command()
def kinds() -> None:
    """Print every fault kind and its keys."""
    for kind, fault_class in FAULT_KINDS.items():
        keys = ", ".join(f.name for f in fault_class.setting_fields() if f.name != "id")
        click.echo(f"{kind}: {keys}")
