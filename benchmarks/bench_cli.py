"""Start-up cost of the `globus-streams` CLI, next to a bare Python start in the same run.

    .venv/bin/python benchmarks/bench_cli.py [--runs N]

Prints the median wall time of whole-process runs of
- `python -c pass` (the reference: the interpreter alone),
- `globus-streams --help`,
- `globus-streams environment contact-lookup TUNNEL_ID` with a fresh conf (no network: this
  is what the intercept library pays inside `connect()` when a contact's TTL has passed
  and another process already refreshed it).
- `globus-streams-launch.sh TUNNEL_ID true` (the launcher's own cost before `exec`),
  when the launcher is installed beside this Python.
The runs are interleaved so that machine noise spreads over all three alike.
Targets from issue 5: --help <= 150 ms, contact-lookup <= 200 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from report import Figure, record  # benchmarks/report.py, beside this script

BIN = Path(sys.executable).parent
CLI = str(BIN / "globus-streams")
LAUNCHER = str(BIN / "globus-streams-launch.sh")
TARGETS_MS = {"globus-streams --help": 150.0, "environment contact-lookup (fresh conf)": 200.0}


def write_fresh_conf(directory: Path, tunnel_id: str) -> None:
    from orbit_globus.streams.conf import TunnelConf

    conf = TunnelConf.new(tunnel_id, directory)
    conf.set(
        role="initiator",
        lankey="benchmark-secret",
        lankey_id=str(uuid.uuid4()),
        connector_contact_string="127.0.0.1:50000",
        update_time=int(time.time()),
        connector_contact_string_ttl=3600,
        fake_port=4000,
    )
    conf.save()


def time_once(argv: list[str], env: dict[str, str], expect: str | None) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or (expect is not None and result.stdout.strip() != expect):
        raise SystemExit(f"{argv} failed: {result.returncode} {result.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per command (default 21)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tunnel_id = str(uuid.uuid4())
        conf_dir = Path(tmp) / "streams"
        write_fresh_conf(conf_dir, tunnel_id)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLOBUS_")}
        env["GLOBUS_STREAMS_DIR"] = str(conf_dir)
        cases = {
            "python -c pass (reference)": ([sys.executable, "-c", "pass"], None),
            "globus-streams --help": ([CLI, "--help"], None),
            "environment contact-lookup (fresh conf)": (
                [CLI, "environment", "contact-lookup", tunnel_id],
                "127.0.0.1:50000",
            ),
        }
        if Path(LAUNCHER).exists():
            cases["globus-streams-launch.sh TUNNEL_ID true"] = ([LAUNCHER, tunnel_id, "true"], None)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for argv, expect in cases.values():  # warm the page cache once
            time_once(argv, env, expect)
        for _ in range(args.runs):
            for name, (argv, expect) in cases.items():
                samples[name].append(time_once(argv, env, expect))

    reference = statistics.median(samples["python -c pass (reference)"]) * 1000
    print(f"median of {args.runs} whole-process runs each, interleaved ({sys.executable})")
    print(f"{'command':<42} {'median ms':>10} {'x python':>9} {'target ms':>10}")
    for name, values in samples.items():
        median_ms = statistics.median(values) * 1000
        target = TARGETS_MS.get(name)
        target_text = f"{target:.0f}" if target else "-"
        print(f"{name:<42} {median_ms:>10.1f} {median_ms / reference:>9.2f} {target_text:>10}")
        if name.startswith("python"):
            continue
        record(
            Figure(
                "cli",
                f"{name} (python -c pass: {reference:.0f} ms)",
                f"{median_ms:.0f} ms",
                f"<= {target:.0f} ms" if target else "",
                median_ms <= target if target else None,
            )
        )


if __name__ == "__main__":
    main()
