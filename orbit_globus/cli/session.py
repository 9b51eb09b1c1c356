"""`globus-streams login | logout | whoami`."""

from __future__ import annotations

import click

from .context import Settings, pass_settings
from .output import emit, print_fields


@click.command()
@click.option(
    "--gcs",
    "endpoint_ids",
    multiple=True,
    metavar="ENDPOINT_ID",
    help="Also consent to manage this GCS endpoint (saves a second login at initialize).",
)
@click.option("--force", is_flag=True, help="Log in again even if the stored login is valid.")
@pass_settings
def login(settings: Settings, endpoint_ids: tuple[str, ...], force: bool) -> None:
    """Log in to Globus (client credentials need no login: they are checked instead)."""
    import globus_sdk

    from orbit_globus.login import make_app, uses_client_credentials
    from orbit_globus.streams.conf import canonical_uuid

    app = make_app(interactive=True)
    for endpoint_id in endpoint_ids:
        eid = canonical_uuid(endpoint_id, "endpoint id")
        scope = globus_sdk.GCSClient.get_gcs_endpoint_scopes(eid).manage_collections
        app.add_scope_requirements({eid: [scope]})
    app.login(force=force or uses_client_credentials())
    mode = "client credentials" if uses_client_credentials() else "user login"
    emit(settings, {"logged_in": True, "mode": mode}, f"logged in ({mode})")


@click.command()
@pass_settings
def logout(settings: Settings) -> None:
    """Revoke and forget the stored tokens."""
    from orbit_globus.login import make_app

    make_app().logout(sweep=True)
    emit(settings, {"logged_in": False}, "logged out; stored tokens revoked and removed")


@click.command()
@pass_settings
def whoami(settings: Settings) -> None:
    """Show the identity the CLI acts as."""
    from orbit_globus.login import whoami as lookup

    info = lookup()
    emit(settings, info, lambda: print_fields({"Username": info["username"], "ID": info["id"]}))
