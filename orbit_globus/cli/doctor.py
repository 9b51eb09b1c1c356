"""`globus-streams doctor [TUNNEL_ID] [-- COMMAND]`: why a tunnel connection would fail.

The checks (orbit_globus.streams.doctor) are imported when the command runs: every other
command, contact-lookup above all, starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .context import Settings, pass_settings
from .errors import translate
from .output import emit

if TYPE_CHECKING:
    from orbit_globus.streams.doctor import StateUnavailable, TunnelFetcher

EXIT_BLOCKED = 1
DEFAULT_TIMEOUT = 5.0
COMMAND_KEY = "doctor_command"


class CommandAfterDashes(click.Command):
    """Keeps what follows `--` apart: `doctor -- ls` must not take `ls` as TUNNEL_ID."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[COMMAND_KEY] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), "[-- COMMAND [ARGS]...]"]


def _unavailable(err: Exception) -> StateUnavailable:
    """The one-line reason the CLI would give for `err`, as "could not ask"."""
    from orbit_globus.streams.doctor import StateUnavailable

    translated = translate(err)
    if isinstance(translated, click.ClickException):
        return StateUnavailable(translated.format_message())
    return StateUnavailable(type(err).__name__)


def _transfer_fetcher() -> TunnelFetcher:
    """Fetches tunnels as the other commands do. Not found or denied stay `StreamsError`s
    (verdicts); no credentials, no network become `StateUnavailable` (no verdict)."""
    from orbit_globus.login import Globus
    from orbit_globus.streams import remote
    from orbit_globus.streams.errors import StreamsError
    from orbit_globus.streams.tunnel_doc import Tunnel

    clients: list[Globus] = []

    def fetch(tunnel_id: str) -> Tunnel:
        try:
            if not clients:
                globus = Globus(interactive=False)
                globus.transfer  # noqa: B018  (credentials are resolved here)
                clients.append(globus)
        except Exception as err:
            raise _unavailable(err) from None
        try:
            return remote.fetch_tunnel(clients[0], tunnel_id)
        except StreamsError:
            raise
        except Exception as err:
            raise _unavailable(err) from None

    return fetch


@click.command(cls=CommandAfterDashes)
@click.argument("tunnel_id", required=False, metavar="[TUNNEL_ID]")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the access point's answer.",
)
@pass_settings
@click.pass_context
def doctor(ctx: click.Context, settings: Settings, tunnel_id: str | None, timeout: float) -> None:
    """Check why a tunnel's connections would fail, or not be intercepted at all.

    \b
    Checks TUNNEL_ID (default: every tunnel initialized here): the conf file, its
    permissions and expiry, the tunnel's state in Transfer, the initiator access point
    (TCP and a LAN handshake that stops before any data), the variables of this shell,
    and with `-- COMMAND` whether the program can be intercepted at all (statically
    linked, Go, io_uring). Prints one line per problem; exits 1 when one of them blocks
    connections, 0 otherwise.

    \b
      globus-streams doctor 0e8a675b-6b84-4220-89e4-a6a7a0d823fb -- curl https://example.org/
    """
    from orbit_globus.streams.conf import conf_dir
    from orbit_globus.streams.doctor import Doctor

    command = ctx.meta.get(COMMAND_KEY, [])
    directory = conf_dir(settings.base_dir)
    report = Doctor(directory, _transfer_fetcher(), timeout=timeout).run(tunnel_id, command)

    def text() -> None:
        for finding in report.findings:
            click.echo(finding.line())
        if not report.findings:
            checked = ", ".join(report.checked)
            click.echo(f"no problems found ({checked}: {', '.join(report.tunnel_ids)})")

    emit(settings, report.to_json(), text)
    if report.blocks:
        ctx.exit(EXIT_BLOCKED)
