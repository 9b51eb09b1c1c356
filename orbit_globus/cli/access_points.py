"""`globus-streams access-point ...`: find stream access points (Transfer /v2)."""

from __future__ import annotations

from typing import Any

import click

from orbit_globus.streams import remote
from orbit_globus.streams.conf import canonical_uuid

from .context import Settings, pass_settings
from .output import emit, print_fields, print_table

SEARCHED = ("display_name", "description", "keywords", "organization", "advertised_owner")


def _transfer():  # -> TransferClientV2
    from orbit_globus.login import Globus

    return Globus().transfer


def _host_endpoint(data: dict[str, Any]) -> str | None:
    related = (data.get("relationships") or {}).get("host_endpoint") or {}
    return (related.get("data") or {}).get("id")


def _matches(data: dict[str, Any], needle: str) -> bool:
    attributes = data.get("attributes") or {}
    haystack = [str(data.get("id", ""))] + [str(attributes.get(k) or "") for k in SEARCHED]
    return any(needle in text.lower() for text in haystack)


@click.group("access-point")
def access_point() -> None:
    """Find the stream access points tunnels run between."""


@access_point.command("list")
@click.option("--filter", "filter_text", metavar="TEXT", help="Only those whose name/id match.")
@pass_settings
def list_(settings: Settings, filter_text: str | None) -> None:
    """List stream access points you can use."""
    # The SDK paginator follows JSON:API `links.next` across pages.
    docs = [
        item
        for page in _transfer().paginated.list_stream_access_points()
        for item in page
        if not filter_text or _matches(item, filter_text.lower())
    ]
    rows = [
        (d.get("id"), (d.get("attributes") or {}).get("display_name"), _host_endpoint(d))
        for d in docs
    ]
    emit(settings, docs, lambda: print_table(None, ("ID", "Display name", "Host endpoint"), rows))


@access_point.command()
@click.argument("access_point_id")
@pass_settings
def show(settings: Settings, access_point_id: str) -> None:
    """Show one stream access point."""
    from orbit_globus.login import Globus

    apid = canonical_uuid(access_point_id, "access point id")
    data = remote.get_access_point_doc(Globus(), apid)
    a = data.get("attributes") or {}

    def text() -> None:
        print_fields(
            {
                "ID": data.get("id"),
                "Display name": a.get("display_name"),
                "Host endpoint": _host_endpoint(data),
                "Owner": a.get("advertised_owner"),
                "Description": a.get("description"),
                "Contact": a.get("contact_email"),
            }
        )

    emit(settings, data, text)
