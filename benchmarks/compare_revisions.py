"""Tunnel set-up of this working tree beside earlier revisions, in alternated rounds.

    .venv/bin/python benchmarks/compare_revisions.py REV [REV ...] [--connections 400] [--rounds 3]

On a machine whose speed moves from minute to minute, an absolute set-up figure says
little; this says how the code compares with REV in the same minutes. Each REV is checked
out in a temporary git worktree, and its simulator runs from there (its own
`benchmarks/bench_tunnel.py --serve tls`, its `sim` and `orbit_globus` first on
PYTHONPATH). The applications at both ends are this tree's, the same for every revision:
an echo server behind GSLA and a client that connects, authenticates, sends one byte and
reads it back. Prints, per revision, the median of the rounds' medians, p99 and the
simulator's CPU per connection.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_tunnel import Child, EchoServer, cpu_seconds, setup_seconds, tunnel_for

ROOT = Path(__file__).resolve().parent.parent
WORKING_TREE = "working tree"


class RevisionChild(Child):
    """The simulator child of one revision (or of this working tree)."""

    def __init__(self, tree: Path, pythonpath: Path | None) -> None:
        env = dict(os.environ)
        if pythonpath is not None:
            env["PYTHONPATH"] = str(pythonpath)
        self.proc = subprocess.Popen(
            [sys.executable, str(tree / "benchmarks" / "bench_tunnel.py"), "--serve", "tls"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tree / "benchmarks",
        )


def check_out(rev: str, workdir: Path) -> tuple[Path, Path]:
    """A worktree of `rev`, and a folder that imports orbit_sim and orbit_globus from it."""
    tree = workdir / rev.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), rev],
        check=True,
    )
    path = workdir / f"{tree.name}-path"
    path.mkdir()
    (path / "orbit_sim").symlink_to(tree / "sim")
    (path / "orbit_globus").symlink_to(tree / "orbit_globus")
    return tree, path


def measure(child: Child, echo: EchoServer, connections: int) -> tuple[list[float], float]:
    """Set-up times of `connections` sequential connections, and CPU-ms per connection."""
    port, tunnel_id, credential = tunnel_for(child, echo.port, echo)
    for _ in range(30):  # warm: the first connections also open the WAN leg
        setup_seconds(port, tunnel_id, credential)
    before = cpu_seconds([child.proc.pid])
    times = [setup_seconds(port, tunnel_id, credential) for _ in range(connections)]
    return times, (cpu_seconds([child.proc.pid]) - before) / connections * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+", metavar="REV", help="git revisions to compare")
    parser.add_argument("--connections", type=int, default=400, help="per round and path")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    echo = EchoServer()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        trees: dict[str, tuple[Path, Path | None]] = {WORKING_TREE: (ROOT, None)}
        try:
            for rev in args.revs:
                trees[rev] = check_out(rev, workdir)
            medians: dict[str, list[float]] = {name: [] for name in trees}
            tails: dict[str, list[float]] = {name: [] for name in trees}
            cpu: dict[str, list[float]] = {name: [] for name in trees}
            for round_no in range(args.rounds):
                for name, (tree, path) in trees.items():
                    child = RevisionChild(tree, path)
                    try:
                        times, cpu_ms = measure(child, echo, args.connections)
                    finally:
                        child.close()
                    times.sort()
                    medians[name].append(statistics.median(times) * 1e3)
                    tails[name].append(times[int(len(times) * 0.99) - 1] * 1e3)
                    cpu[name].append(cpu_ms)
                    print(
                        f"round {round_no + 1}  {name:14s} median {medians[name][-1]:.2f} ms"
                        f"  p99 {tails[name][-1]:.2f} ms  CPU/connection {cpu_ms:.2f} ms",
                        flush=True,
                    )
                    time.sleep(0.5)
        finally:
            for rev, (tree, _) in trees.items():
                if rev != WORKING_TREE:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                        check=False,
                    )
    base = statistics.median(medians[WORKING_TREE])
    print(f"set-up, {args.rounds} alternated rounds of {args.connections} connections each:")
    for name in trees:
        median = statistics.median(medians[name])
        print(
            f"  {name:14s} median {median:.2f} ms ({median / base:.2f}x the working tree)"
            f"  p99 {statistics.median(tails[name]):.2f} ms"
            f"  simulator CPU/connection {statistics.median(cpu[name]):.2f} ms"
        )
    echo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
