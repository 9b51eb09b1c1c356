"""Global options shared by every command."""

from __future__ import annotations

import dataclasses

import click


@dataclasses.dataclass(frozen=True)
class Settings:
    output_format: str = "text"
    base_dir: str | None = None
    verbose: int = 0

    @property
    def json(self) -> bool:
        return self.output_format == "json"


pass_settings = click.make_pass_decorator(Settings, ensure=True)
