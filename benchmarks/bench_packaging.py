"""Distribution artifacts: their sizes, and the seconds from an extracted tarball to a
working tunnel (issue 8).

    .venv/bin/python benchmarks/bench_packaging.py [--artifacts DIR] [--runs N]

Without --artifacts, every artifact is built first (`packaging/build_all.py`, all
architectures, the default Python versions; needs the package index). Then, N times
(default 3), the x86_64 tarball is extracted to a new folder, `setup.sh` runs with
PIP_NO_INDEX=1, `globus-streams-env` is sourced and the Streaming User Guide's nc example
runs through a loopback simulator with the folder's own tools. Beside it, the same example
with the development virtualenv's tools (nothing to set up) is the reference measured in the
same run; the runs are interleaved so machine noise hits both alike. Medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "packaging"))

from artifacts import host_arch, size_text  # noqa: E402
from build_all import Artifacts, build_all  # noqa: E402
from elfcheck import unpack  # noqa: E402
from report import Figure, record  # noqa: E402
from smoke import bare_env, run_nc_example, sourced_env  # noqa: E402

from orbit_sim.testing import running_simulator  # noqa: E402

AREA = "packaging"


def dependency_bytes(tarball: Path) -> int:
    """Bytes of bundled wheels other than the project's own, as stored in the tarball."""
    with tarfile.open(tarball) as tar:
        return sum(
            m.size
            for m in tar.getmembers()
            if "/wheels/" in m.name and not Path(m.name).name.startswith("orbit_globus-")
        )


def print_sizes(built: Artifacts) -> None:
    print(f"{'artifact':<78} {'size':>10}")
    for path in built.all_paths():
        print(f"{path.name:<78} {size_text(path):>10}")
        record(Figure(AREA, f"size of {path.name}", size_text(path)))
    for arch, tarball in built.tarballs.items():
        deps = dependency_bytes(Path(tarball))
        wheel = Path(built.wheels[arch])
        with zipfile.ZipFile(wheel) as archive:
            library = sum(i.file_size for i in archive.infolist() if ".so" in i.filename)
        print(
            f"  {arch} tarball: dependency wheels {deps / 2**20:.1f} MiB "
            f"(Python {', '.join(built.python_versions)}), project wheel "
            f"{size_text(wheel)}, of it the library {library / 1024:.0f} KiB"
        )


def tarball_to_tunnel(tarball: Path, sim_env: dict[str, str], scratch: Path) -> dict[str, float]:
    """Seconds for each step from the tarball to the first byte-exact nc transfer."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    home = unpack(tarball, scratch / "extracted") / "globus-streaming-tools"
    times["extract"] = time.perf_counter() - start
    step = time.perf_counter()
    subprocess.run(
        [str(home / "setup.sh")],
        env={**bare_env(), "PIP_NO_INDEX": "1", "PYTHON": sys.executable},
        cwd=home,
        capture_output=True,
        check=True,
        timeout=600,
    )
    times["setup.sh"] = time.perf_counter() - step
    step = time.perf_counter()
    tools = sourced_env(home / "globus-streams-env", bare_env())
    run_nc_example(sim_env, scratch / "example", tools)
    times["source env + nc example"] = time.perf_counter() - step
    times["total"] = time.perf_counter() - start
    return times


def dev_example(sim_env: dict[str, str], scratch: Path) -> float:
    start = time.perf_counter()
    run_nc_example(sim_env, scratch, bare_env(Path(sys.executable).parent))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, help="a build_all.py output to reuse")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    arch = host_arch()
    with tempfile.TemporaryDirectory(prefix="bench-packaging-") as scratch_dir:
        scratch = Path(scratch_dir)
        if args.artifacts:
            built = Artifacts.load(args.artifacts)
        else:
            print("building every artifact (packaging/build_all.py) ...", flush=True)
            start = time.perf_counter()
            built = build_all(scratch / "dist", log=lambda _line: None)
            print(f"built in {time.perf_counter() - start:.0f} s")
        print_sizes(built)

        tarball = Path(built.tarballs[arch])
        steps: list[dict[str, float]] = []
        reference: list[float] = []
        with running_simulator() as server:
            sim_env = dict(server.env)
            for run in range(args.runs):
                steps.append(tarball_to_tunnel(tarball, sim_env, scratch / f"tar{run}"))
                reference.append(dev_example(sim_env, scratch / f"dev{run}"))

    print(f"\nfrom {tarball.name} to a working tunnel (median of {args.runs}):")
    for name in steps[0]:
        print(f"  {name:<34} {statistics.median(s[name] for s in steps):6.2f} s")
    total = statistics.median(s["total"] for s in steps)
    ref = statistics.median(reference)
    print(f"  {'reference: nc example, dev venv':<34} {ref:6.2f} s  (nothing to set up)")
    print(f"  total / reference                  {total / ref:6.1f}x")
    record(
        Figure(AREA, "extracted tarball -> working tunnel (setup.sh, env, nc)", f"{total:.1f} s"),
        Figure(AREA, "same nc example with the dev venv (reference)", f"{ref:.1f} s"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
