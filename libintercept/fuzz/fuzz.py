"""Build and run the libFuzzer targets of the intercept core (libintercept/fuzz/fuzz_*.c).

    python libintercept/fuzz/fuzz.py build [TARGET...]
    python libintercept/fuzz/fuzz.py replay [TARGET...]        # every seed once
    python libintercept/fuzz/fuzz.py run [--seconds S] [TARGET...]
    python libintercept/fuzz/fuzz.py ci [--seconds S]          # build, replay, run; a table
    python libintercept/fuzz/fuzz.py seeds                     # rewrite corpus/ (seeds.py)

Each target links the whole core (every src/core/*.c, less a file the target compiles in
itself with `#include "../src/core/X.c"`) with Debian's clang under libFuzzer, ASan and
UBSan (float-cast-overflow on, halt on the first error). The committed seeds are in
corpus/<target>/; inputs found while fuzzing go to build/fuzz/found/<target>/ and crashes to
build/fuzz/crashes/. Targets fuzz side by side, one per core. Exit status: 0 when every
target ran clean, 1 on a crash or a failed build, 2 when clang or libFuzzer is missing
(scripts/install.sh installs them).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORE = HERE.parent / "src" / "core"
CORPUS = HERE / "corpus"
BUILD = HERE.parent.parent / "build" / "fuzz"
CLANG = os.environ.get("ORBIT_FUZZ_CC", "clang")
FLAGS = [
    "-g",
    "-O1",
    "-std=gnu11",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fsanitize=fuzzer,address,undefined,float-cast-overflow",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-I",
    str(CORE),
]
LIBS = ["-ldl", "-lpthread", "-lm"]
# Every input is small; a slow one is a hang in the code under test.
RUN_FLAGS = ["-timeout=10", "-rss_limit_mb=2048", "-max_len=4096", "-print_final_stats=1"]
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
INCLUDED_SOURCE = re.compile(r'#include\s+"\.\./src/core/(\w+\.c)"')


class FuzzError(RuntimeError):
    """clang is missing or refused a target."""


@dataclass
class Outcome:
    target: str
    seeds: int
    execs: int = 0
    seconds: float = 0.0
    found: int = 0
    crashed: bool = False
    log: str = ""

    @property
    def rate(self) -> float:
        return self.execs / self.seconds if self.seconds > 0 else 0.0


def targets() -> list[str]:
    return sorted(p.stem for p in HERE.glob("fuzz_*.c"))


def sources_for(target: str) -> list[Path]:
    """The target's file and the core, less the core files it compiles in itself."""
    source = HERE / f"{target}.c"
    inlined = set(INCLUDED_SOURCE.findall(source.read_text()))
    core = [p for p in sorted(CORE.glob("*.c")) if p.name not in inlined]
    return [source, *core]


def binary(target: str) -> Path:
    return BUILD / target


def build(target: str) -> Path:
    if shutil.which(CLANG) is None:
        raise FuzzError(f"{CLANG} not found (scripts/install.sh installs clang)")
    output = binary(target)
    sources = sources_for(target)
    inputs = [*sources, *CORE.glob("*.[ch]"), *HERE.glob("*.h"), Path(__file__)]
    if output.exists() and all(p.stat().st_mtime <= output.stat().st_mtime for p in inputs):
        return output
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    command = [CLANG, *FLAGS, *map(str, sources), *LIBS, "-o", str(tmp)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FuzzError(f"clang failed for {target}:\n{result.stderr.strip()}")
    os.replace(tmp, output)
    return output


def seed_count(target: str) -> int:
    folder = CORPUS / target
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


def _libfuzzer(target: str, args: list[str], timeout: float) -> tuple[int, str]:
    crashes = BUILD / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    command = [str(binary(target)), *RUN_FLAGS, f"-artifact_prefix={crashes}/{target}-", *args]
    env = {**os.environ, **SANITIZER_ENV}
    # The targets write conf files per input: memory-backed /dev/shm keeps that cheap.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="gsi-fuzz-", dir=shm) as scratch:
        env["TMPDIR"] = scratch
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    return result.returncode, result.stderr


def _stat(log: str, name: str) -> int:
    match = re.search(rf"^stat::{name}:\s+(\d+)", log, re.MULTILINE)
    return int(match.group(1)) if match else 0


def replay(target: str) -> Outcome:
    """Runs every committed seed once (and nothing else)."""
    outcome = Outcome(target, seed_count(target))
    code, log = _libfuzzer(target, ["-runs=0", str(CORPUS / target)], timeout=300)
    outcome.execs = _stat(log, "number_of_executed_units")
    outcome.crashed, outcome.log = code != 0, log
    return outcome


def fuzz(target: str, seconds: int) -> Outcome:
    """Fuzzes for `seconds`, starting from the seeds and what earlier runs found."""
    outcome = Outcome(target, seed_count(target))
    found = BUILD / "found" / target
    found.mkdir(parents=True, exist_ok=True)
    before = sum(1 for _ in found.iterdir())
    args = [f"-max_total_time={seconds}", str(found), str(CORPUS / target)]
    code, log = _libfuzzer(target, args, timeout=seconds + 120)
    outcome.execs = _stat(log, "number_of_executed_units")
    done = re.search(r"Done \d+ runs in (\d+) second", log)
    outcome.seconds = float(done.group(1)) if done else float(seconds)
    outcome.found = sum(1 for _ in found.iterdir()) - before
    outcome.crashed, outcome.log = code != 0, log
    return outcome


def crash_report(outcome: Outcome) -> str:
    """The sanitizer's or the invariant's lines, without libFuzzer's progress lines."""
    keep = [
        line
        for line in outcome.log.splitlines()
        if not re.match(r"^(#\d+|INFO:|MS:|base unit:|stat::|Done \d+)", line)
    ]
    return "\n".join(keep[-60:])


def print_table(outcomes: list[Outcome]) -> None:
    print(f"{'target':<18} {'seeds':>6} {'execs':>12} {'seconds':>8} {'execs/s':>10} {'new':>5}")
    for o in outcomes:
        state = "CRASH" if o.crashed else "ok"
        print(
            f"{o.target:<18} {o.seeds:>6} {o.execs:>12,} {o.seconds:>8.0f} {o.rate:>10,.0f}"
            f" {o.found:>5}  {state}"
        )
    total = sum(o.execs for o in outcomes)
    seconds = sum(o.seconds for o in outcomes)
    rate = total / seconds if seconds else 0.0
    print(f"{'total':<18} {'':>6} {total:>12,} {seconds:>8.0f} {rate:>10,.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "replay", "run", "ci", "seeds"])
    parser.add_argument("targets", nargs="*", help=f"default: all of {', '.join(targets())}")
    parser.add_argument("--seconds", type=int, default=30, help="fuzzing time per target")
    args = parser.parse_intermixed_args(argv)
    if args.command == "seeds":
        from seeds import write_all  # noqa: PLC0415 (beside this file; only this command needs it)

        for folder, count in write_all(CORPUS).items():
            print(f"{folder}: {count} seeds")
        return 0
    chosen = args.targets or targets()
    unknown = sorted(set(chosen) - set(targets()))
    if unknown:
        print(f"fuzz.py: unknown target {', '.join(unknown)}", file=sys.stderr)
        return 2
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # the machine's two cores
            list(pool.map(build, chosen))
    except FuzzError as exc:
        print(f"fuzz.py: {exc}", file=sys.stderr)
        return 1 if shutil.which(CLANG) else 2
    if args.command == "build":
        return 0
    outcomes: list[Outcome] = []
    if args.command in ("replay", "ci"):
        outcomes += [replay(t) for t in chosen]
        for o in outcomes:
            print(f"replayed {o.seeds:>4} seeds of {o.target}: {'CRASH' if o.crashed else 'ok'}")
    if args.command in ("run", "ci"):
        # a target whose seeds already crash has nothing more to tell in this run
        clean = [t for t in chosen if not any(o.crashed and o.target == t for o in outcomes)]
        # one libFuzzer process per core at a time: each target keeps its whole time
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            runs = list(pool.map(lambda t: fuzz(t, args.seconds), clean))
        print_table(runs)
        outcomes += runs
    for o in outcomes:
        if o.crashed:
            print(f"\n{o.target} crashed:\n{crash_report(o)}", file=sys.stderr)
    return 1 if any(o.crashed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
