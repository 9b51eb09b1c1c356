"""`globus-streams`: the entry point, global options and the mapping of failures to exits.

Kept light on purpose: the intercept library runs `environment contact-lookup` inside a
connecting program, so nothing here imports globus-sdk or rich; commands import them when
they need the network or a table.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from orbit_globus import __version__

from .context import Settings
from .errors import translate


class StreamsGroup(click.Group):
    """A group whose commands' expected failures become one-line `CliError`s."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:  # translate() re-raises what it does not know
            raise translate(err) from None


@click.group(cls=StreamsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json keys are stable.",
)
@click.option(
    "--base-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Conf directory (overrides GLOBUS_STREAMS_DIR; default ~/.globus/streams).",
)
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv: more).")
@click.version_option(__version__, prog_name="globus-streams")
@click.pass_context
def cli(ctx: click.Context, output_format: str, base_dir: str | None, verbose: int) -> None:
    """Prepare applications to use Globus Streams tunnels and manage the tunnels."""
    ctx.obj = Settings(output_format=output_format, base_dir=base_dir, verbose=verbose)
    if verbose:
        _configure_logging(verbose)


_LOG_HANDLER_NAME = "globus-streams-verbose"


def _configure_logging(verbose: int) -> None:
    import logging  # here, not at the top: it costs start-up time on every run

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_LOG_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("globus-streams: %(name)s: %(message)s"))
    loggers = [logging.getLogger("orbit_globus")]
    if verbose > 1:
        # globus-sdk logs requests and retries; it does not log Authorization headers.
        loggers.append(logging.getLogger("globus_sdk"))
    for logger in loggers:
        # main() may run several times in one process (tests): one handler each time.
        for old in [h for h in logger.handlers if h.get_name() == _LOG_HANDLER_NAME]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def _register_commands() -> None:
    from .access_points import access_point
    from .doctor import doctor
    from .environment import environment
    from .session import login, logout, whoami
    from .tunnels import tunnel

    for command in (environment, tunnel, access_point, login, logout, whoami, doctor):
        cli.add_command(command)


_register_commands()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit status."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="globus-streams", standalone_mode=False)
    except click.UsageError as err:
        # One line, like every other failure, with the way to the help text.
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        click.echo(f"globus-streams: error: {err.format_message()}{hint}", err=True)
        return err.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.Abort:
        click.echo("globus-streams: error: aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
