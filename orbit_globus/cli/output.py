"""Printing results: stable-keyed JSON, plain text lines, or rich tables for lists."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from .context import Settings


def emit(settings: Settings, data: Any, text: str | Callable[[], None] | None = None) -> None:
    """`data` as JSON under --format json; otherwise `text` (a string, or a printer).

    With --jmespath the expression's result is printed as JSON (strings keep their quotes,
    as in globus-cli).
    """
    if settings.jmespath is not None:
        data = settings.jmespath.search(data)
    if settings.json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    elif callable(text):
        text()
    elif text is not None:
        click.echo(text)


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout (rich is imported only here: tables are not on any hot path)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console(soft_wrap=False, width=200).print(table)


def print_fields(fields: Mapping[str, Any]) -> None:
    """`Key: value` lines, keys aligned."""
    width = max((len(k) for k in fields), default=0)
    for key, value in fields.items():
        click.echo(f"{key + ':':<{width + 1}} {'' if value is None else value}")
