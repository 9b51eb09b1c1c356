"""Run every benchmark script and print their headline figures as one table.

    .venv/bin/python benchmarks/run_all.py [--only NAME ...] [--markdown]

Each `bench_*.py` runs in its own process (its detailed output goes to
benchmarks/last-run/NAME.txt) and records its headline figures through `report.record()`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="e.g. intercept tunnel")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument(
        "--from-last", action="store_true", help="show the last run's figures without running"
    )
    args = parser.parse_args(argv)
    console = Console(width=max(Console().width, 130))
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if any(name in s.stem for name in args.only)]
    out_dir = HERE / "last-run"
    out_dir.mkdir(exist_ok=True)
    rows: list[dict] = []
    failures = []
    saved = out_dir / "figures.json"
    if args.from_last:
        rows, scripts = json.loads(saved.read_text()), []
    for script in scripts:
        with tempfile.NamedTemporaryFile(suffix=".jsonl") as figures:
            env = {**os.environ, "ORBIT_BENCH_JSON": figures.name}
            started = time.monotonic()
            with console.status(f"running {script.name}"):
                proc = subprocess.run(
                    [sys.executable, str(script)], env=env, capture_output=True, text=True
                )
            elapsed = time.monotonic() - started
            (out_dir / f"{script.stem}.txt").write_text(proc.stdout + proc.stderr)
            console.print(f"{script.name}: exit {proc.returncode} in {elapsed:.0f} s")
            if proc.returncode != 0:
                failures.append(script.name)
            rows += [json.loads(line) for line in Path(figures.name).read_text().splitlines()]
    if not args.from_last and not args.only:  # a partial run keeps the last full one
        saved.write_text(json.dumps(rows, indent=1))
    table = Table(title="orbit-globus benchmarks (medians; references measured in the same run)")
    for column in ("area", "measure", "figure", "target", "met"):
        table.add_column(column, justify="right" if column in ("figure", "target") else "left")
    for row in rows:
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: ""}[row["met"]]
        table.add_row(row["area"], row["measure"], row["value"], row["target"], met)
    console.print(table)
    if args.markdown:
        print(markdown(rows))
    if failures:
        console.print(f"[red]failed:[/] {', '.join(failures)} (see benchmarks/last-run/)")
    return 1 if failures else 0


def markdown(rows: list[dict]) -> str:
    """The figures as the README shows them."""
    lines = ["| area | measure | figure | target | met |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(
            f"| {row['area']} | {row['measure']} | {row['value']} | {row['target']} | {met} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
