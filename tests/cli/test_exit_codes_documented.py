"""The exit statuses in the README's table and in `--help` are `ExitCode`, all of them."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from orbit_globus.cli.main import cli
from orbit_globus.streams.errors import ERROR_KINDS, ExitCode

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_table_lists_every_exit_status():
    text = README.read_text()
    table = text[text.index("Exit status, the same") :]
    documented = [int(n) for n in re.findall(r"^\| (\d+) \| ", table, flags=re.M)[: len(ExitCode)]]
    assert documented == [int(code) for code in ExitCode]
    for kind in ERROR_KINDS.values():
        assert f"`{kind}`" in text


def test_help_lists_every_exit_status():
    out = CliRunner().invoke(cli, ["--help"]).output
    listed = re.findall(r"^\s+(\d+)  \S", out[out.index("Exit status:") :], flags=re.M)
    assert [int(n) for n in listed] == [int(code) for code in ExitCode]
