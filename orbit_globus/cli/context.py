"""Global options shared by every command, and the output options every command accepts.

As in globus-cli, `-F/--format` and `--jmespath` work before the command name and after
it (`globus-streams -F json tunnel list` and `globus-streams tunnel list -F json`): each
command gets its own copy of the two options, and all copies write into the one `Settings`
of the invocation (the last one given wins).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

FORMATS = ("text", "json")


@dataclasses.dataclass
class Settings:
    output_format: str = "text"
    base_dir: str | None = None
    verbose: int = 0
    jmespath: Any = None  # a compiled jmespath expression (imported only when given)

    @property
    def json(self) -> bool:
        """JSON output; --jmespath implies it (as in globus-cli)."""
        return self.output_format == "json" or self.jmespath is not None


pass_settings = click.make_pass_decorator(Settings, ensure=True)


def _set_format(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Settings).output_format = value.lower()


def _set_jmespath(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    import jmespath  # only when asked for: it is not on the contact-lookup path
    from jmespath.exceptions import JMESPathError

    try:
        ctx.ensure_object(Settings).jmespath = jmespath.compile(value)
    except JMESPathError as err:
        raise click.BadParameter(" ".join(str(err).split()), ctx=ctx) from None


def output_options() -> list[click.Option]:
    """A fresh `-F/--format` and `--jmespath` pair for one command."""
    return [
        click.Option(
            ["-F", "--format", "output_format"],
            type=click.Choice(FORMATS, case_sensitive=False),
            default=None,
            expose_value=False,
            callback=_set_format,
            help="Output format: text (default) or json (stable keys).",
        ),
        click.Option(
            ["--jmespath", "--jq", "jmespath_expr"],
            metavar="EXPR",
            default=None,
            expose_value=False,
            callback=_set_jmespath,
            help="A JMESPath expression applied to the JSON output (implies -F json).",
        ),
    ]


def add_output_options(command: click.Command) -> None:
    """Give `command` and every command below it the output options (once each)."""
    names = {param.name for param in command.params}
    if "output_format" not in names:
        command.params.extend(output_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_output_options(sub)
