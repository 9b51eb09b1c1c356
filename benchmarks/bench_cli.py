"""The `globus-streams` CLI: start-up cost, `tunnel wait` reaction, `up` set-up time.

    .venv/bin/python benchmarks/bench_cli.py [--runs N] [--trials N]

Each figure stands next to a reference measured in the same run:
- start-up (median of N whole-process runs, interleaved): `python -c pass` (the
  interpreter alone), `globus-streams --help`, `environment contact-lookup TUNNEL_ID` with a
  fresh conf (what the intercept library pays inside `connect()`), and the launcher's own
  cost before `exec`. Targets from issue 13: --help <= 150 ms, contact-lookup <= 200 ms.
- `tunnel wait` reaction: seconds from the simulator's control API stopping a tunnel until
  `globus-streams tunnel wait ID --state STOPPING` exits, next to a shell loop that polls
  `tunnel show` every second (what scripts did before); both watch the same tunnel.
- `up` wall time to a working tunnel (create, both sides, ACTIVE), next to the same steps
  as separate commands (tunnel create, environment initialize x2, tunnel wait); one tunnel
  of each kind then carries bytes through real `nc` under the launcher.
Against `orbit-sim serve`'s stack in this process, on the real clock.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from report import Figure, record  # benchmarks/report.py, beside this script

BIN = Path(sys.executable).parent
CLI = str(BIN / "globus-streams")
LAUNCHER = str(BIN / "globus-streams-launch.sh")
STARTUP_TARGETS_MS = {
    "globus-streams --help": 150.0,
    "environment contact-lookup (fresh conf)": 200.0,
}
SHELL_POLL = (
    'until "$CLI" tunnel show "$TUNNEL" --jmespath attributes.state | grep -q STOPP; '
    "do sleep 1; done"
)


# -- start-up -------------------------------------------------------------------------------


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


def time_once(argv: list[str], env: dict[str, str], expect: str | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or (expect is not None and result.stdout.strip() != expect):
        raise SystemExit(f"{argv} failed: {result.returncode} {result.stderr.strip()}")
    return elapsed


def startup(runs: int) -> None:
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
        for _ in range(runs):  # interleaved: machine noise spreads over all alike
            for name, (argv, expect) in cases.items():
                samples[name].append(time_once(argv, env, expect))

    reference = statistics.median(samples["python -c pass (reference)"]) * 1000
    print(f"start-up: median of {runs} whole-process runs each, interleaved ({sys.executable})")
    print(f"{'command':<42} {'median ms':>10} {'x python':>9} {'target ms':>10}")
    for name, values in samples.items():
        median_ms = statistics.median(values) * 1000
        target = STARTUP_TARGETS_MS.get(name)
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


# -- against the simulator ------------------------------------------------------------------


class Bench:
    """The CLI against one simulator: commands, tunnels, timings."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.env = env
        self.work = work
        self.initiator_ap = env["ORBIT_SIM_INITIATOR_AP"]
        self.listener_ap = env["ORBIT_SIM_LISTENER_AP"]
        self._dirs = 0

    def run(self, *args: str, conf_dir: Path | None = None) -> str:
        env = dict(self.env)
        if conf_dir is not None:
            env["GLOBUS_STREAMS_DIR"] = str(conf_dir)
        result = subprocess.run([CLI, *args], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"globus-streams {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    def fresh_dirs(self) -> tuple[Path, Path]:
        """(initiator conf dir, listener conf dir), new for each set-up."""
        self._dirs += 1
        base = self.work / f"setup-{self._dirs}"
        return base / "initiator", base / "listener"

    def up(self, listener_contact: str) -> tuple[str, Path, Path]:
        initiator_dir, listener_dir = self.fresh_dirs()
        contact = self.run(
            "up", self.initiator_ap, self.listener_ap,
            "--listener-contact-string", listener_contact, "--listener-dir", str(listener_dir),
            conf_dir=initiator_dir,
        )  # fmt: skip
        return contact, initiator_dir, listener_dir

    def separate_steps(self, listener_contact: str) -> tuple[str, Path, Path]:
        initiator_dir, listener_dir = self.fresh_dirs()
        tunnel = self.run("tunnel", "create", self.initiator_ap, self.listener_ap)
        self.run(
            "environment", "initialize", tunnel, "--listener-contact-string", listener_contact,
            conf_dir=listener_dir,
        )  # fmt: skip
        out = self.run("environment", "initialize", tunnel, conf_dir=initiator_dir)
        self.run("tunnel", "wait", tunnel, "--state", "ACTIVE")
        contact = out.rsplit("Your contact string is: ", 1)[1].strip()
        return contact, initiator_dir, listener_dir


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def nc_through(bench: Bench, setup: Callable[[str], tuple[str, Path, Path]]) -> str:
    """Set a tunnel up with `setup`, then send a line through it with nc; what arrived."""
    from orbit_sim.testing import free_port, wait_listening

    port = free_port()
    contact, initiator_dir, listener_dir = setup(f"127.0.0.1:{port}")
    tunnel, _, fake_port = contact.removeprefix("globus.").rpartition(":")
    server = subprocess.Popen(
        [LAUNCHER, tunnel, "nc", "-l", "127.0.0.1", str(port)],
        env={**bench.env, "GLOBUS_STREAMS_DIR": str(listener_dir)},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port, server)
        subprocess.run(
            [LAUNCHER, tunnel, "nc", "-N", f"globus.{tunnel}", fake_port],
            env={**bench.env, "GLOBUS_STREAMS_DIR": str(initiator_dir)},
            input=b"benchmark\n", capture_output=True, timeout=60, check=True,
        )  # fmt: skip
        return server.communicate(timeout=30)[0].decode().strip()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def up_versus_steps(bench: Bench, trials: int) -> list[str]:
    """Interleaved set-up timings; returns the ACTIVE tunnels made (for the wait figures)."""
    times: dict[str, list[float]] = {"up": [], "steps": []}
    tunnels = []
    for _ in range(trials):
        for name, setup in (("up", bench.up), ("steps", bench.separate_steps)):
            seconds, (contact, _, _) = timed(lambda setup=setup: setup("127.0.0.1:9"))
            times[name].append(seconds)
            tunnels.append(contact.removeprefix("globus.").rpartition(":")[0])
    up_s, steps_s = (statistics.median(times[k]) for k in ("up", "steps"))
    working = "not checked (no nc or launcher)"
    if shutil.which("nc") and Path(LAUNCHER).exists():
        received = {nc_through(bench, bench.up), nc_through(bench, bench.separate_steps)}
        working = "yes" if received == {"benchmark"} else f"NO: {received}"
    print(f"\nset-up to an ACTIVE tunnel, median of {trials} each, interleaved")
    print(f"  globus-streams up (one command)          {up_s * 1000:8.0f} ms")
    print(f"  the same steps as four commands          {steps_s * 1000:8.0f} ms")
    print(f"  up / steps                               {up_s / steps_s:8.2f}x")
    print(f"  bytes through nc over both kinds of tunnel: {working}")
    record(
        Figure(
            "cli",
            f"up to a working tunnel (the same steps as 4 commands: {steps_s:.2f} s)",
            f"{up_s:.2f} s ({up_s / steps_s:.2f}x)",
            "< 1x",
            up_s < steps_s and working == "yes",
        )
    )
    return tunnels


def reaction_times(bench: Bench, tunnel: str, control: object) -> tuple[float, float]:
    """(tunnel wait, shell loop): seconds from the stop until each one exits."""
    wait = subprocess.Popen(
        [CLI, "tunnel", "wait", tunnel, "--state", "STOPPING"], env=bench.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    loop = subprocess.Popen(
        ["sh", "-c", SHELL_POLL], env={**bench.env, "CLI": CLI, "TUNNEL": tunnel},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    exited: dict[str, float] = {}

    def watch(name: str, process: subprocess.Popen[bytes]) -> None:
        process.wait()
        exited[name] = time.perf_counter()

    watchers = [
        threading.Thread(target=watch, args=(name, process))
        for name, process in (("wait", wait), ("loop", loop))
    ]
    for watcher in watchers:
        watcher.start()
    # Both are in their steady loops by now; a random phase against the 1 s polls.
    time.sleep(random.uniform(2.0, 3.0))
    if exited:
        raise SystemExit(f"a waiter ended before the stop: {wait.stderr.read().decode()}")
    control.stop_tunnel(tunnel)  # type: ignore[attr-defined]
    stopped = time.perf_counter()
    for watcher in watchers:
        watcher.join(timeout=60)
    if wait.returncode != 0 or loop.returncode != 0:
        raise SystemExit(f"tunnel wait exited {wait.returncode}, the loop {loop.returncode}")
    return exited["wait"] - stopped, exited["loop"] - stopped


def wait_versus_shell_loop(bench: Bench, tunnels: list[str], control: object) -> None:
    samples = [reaction_times(bench, tunnel, control) for tunnel in tunnels]
    wait_s = statistics.median(s[0] for s in samples)
    loop_s = statistics.median(s[1] for s in samples)
    print(f"\nreaction after the control API stops a tunnel, median of {len(samples)}")
    print(f"  globus-streams tunnel wait --state STOPPING  {wait_s * 1000:8.0f} ms")
    print(f"  shell loop: tunnel show, sleep 1             {loop_s * 1000:8.0f} ms")
    print("  each: " + ", ".join(f"{w * 1000:.0f}/{s * 1000:.0f}" for w, s in samples) + " ms")
    record(
        Figure(
            "cli",
            f"tunnel wait reaction to a stop, median (shell loop of tunnel show + sleep 1: "
            f"{loop_s * 1000:.0f} ms)",
            f"{wait_s * 1000:.0f} ms",
            "< shell loop",
            wait_s < loop_s,
        )
    )


def against_simulator(trials: int) -> None:
    from orbit_sim.control import SimControl
    from orbit_sim.stack import running_simulator

    with tempfile.TemporaryDirectory() as tmp, running_simulator(clock="real") as handle:
        home = Path(tmp) / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLOBUS_")}
        env.update(handle.env, HOME=str(home), GLOBUS_STREAMS_DIR=str(Path(tmp) / "streams"))
        bench = Bench(env, Path(tmp))
        bench.run("tunnel", "list")  # the token, fetched once and stored under HOME
        tunnels = up_versus_steps(bench, trials)
        with SimControl(handle.control_url) as control:
            wait_versus_shell_loop(bench, tunnels, control)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="start-up runs (default 21)")
    parser.add_argument("--trials", type=int, default=5, help="up and wait trials (default 5)")
    args = parser.parse_args()
    startup(args.runs)
    against_simulator(args.trials)


if __name__ == "__main__":
    main()
