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
from orbit_globus.streams.errors import EXIT_CODE_HELP, ExitCode

from .context import Settings, add_output_options
from .errors import CliError, show_error, translate


class StreamsGroup(click.Group):
    """A group whose commands' expected failures become one-line `CliError`s."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.UsageError:
            raise  # main() prints it (text or JSON) with the way to the help
        except Exception as err:  # translate() returns what it does not know (a bug)
            translated = translate(err)
            if isinstance(translated, CliError):
                translated.as_json = ctx.ensure_object(Settings).json
            if translated is err:
                raise
            raise translated from None


def exit_status_table() -> str:
    """The exit statuses for --help (click keeps a `\\b` paragraph as written)."""
    rows = [f"  {int(code):>3}  {text}" for code, text in EXIT_CODE_HELP.items()]
    return "\b\nExit status:\n" + "\n".join(rows)


@click.group(
    cls=StreamsGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=exit_status_table(),
)
@click.option(
    "--base-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Conf directory (overrides GLOBUS_STREAMS_DIR; default ~/.globus/streams).",
)
@click.option("-v", "--verbose", count=True, help="Log what happens on stderr (-vv: more).")
@click.version_option(__version__, "-V", "--version", prog_name="globus-streams")
@click.pass_context
def cli(ctx: click.Context, base_dir: str | None, verbose: int) -> None:
    """Prepare applications to use Globus Streams tunnels and manage the tunnels.

    -F/--format and --jmespath are accepted before or after the command name. With
    JSON output (-F json or --jmespath) a failure is one JSON line on stderr:
    {"error": KIND, "exit_status": N, "message": TEXT}.
    """
    settings = ctx.ensure_object(Settings)  # the output options may have made it already
    settings.base_dir = base_dir
    settings.verbose = verbose
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
    from .up import up

    for command in (environment, tunnel, access_point, up, doctor, login, logout, whoami):
        cli.add_command(command)
    add_output_options(cli)  # after registration: every command gets -F and --jmespath


_register_commands()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns (and, as a console script, exits with) the exit status."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = cli.main(args=args, prog_name="globus-streams", standalone_mode=False)
    except click.UsageError as err:
        # One line, like every other failure, with the way to the help text.
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        message = f"{err.format_message()}{hint}"
        show_error(message, ExitCode.USAGE, "usage", as_json=_json_asked(err.ctx, args))
        return ExitCode.USAGE
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.Abort:
        show_error(
            "interrupted", ExitCode.INTERRUPTED, "interrupted", as_json=_json_asked(None, args)
        )
        return ExitCode.INTERRUPTED
    return result if isinstance(result, int) else 0


def _json_asked(ctx: click.Context | None, args: Sequence[str]) -> bool:
    """Whether this run asked for JSON, also when parsing stopped before the options' turn."""
    settings = ctx.find_object(Settings) if ctx is not None else None
    if settings is not None and settings.json:
        return True
    for index, arg in enumerate(args):
        if arg == "--":
            break
        following = args[index + 1].lower() if index + 1 < len(args) else ""
        if arg in ("-F", "--format") and following == "json":
            return True
        if arg.lower() in ("-fjson", "--format=json") or arg.startswith(("--jmespath", "--jq")):
            return True
    return False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
