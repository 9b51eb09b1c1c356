"""`orbit-sim serve` in a subprocess and the CLI run as real processes against it."""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
GLOBUS_STREAMS = str(BIN / "globus-streams")
LAUNCHER = str(BIN / "globus-streams-launch.sh")
ORBIT_SIM = str(BIN / "orbit-sim")
ISOLATED_PREFIXES = ("GLOBUS_SDK_", "GLOBUS_STREAMS_", "ORBIT_SIM_")


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            env[key] = value
    return env


@contextmanager
def orbit_sim_serve(workdir: Path, *options: str, timeout: float = 30) -> Iterator[dict[str, str]]:
    """Start `orbit-sim serve`, yield its env file's variables, always stop it."""
    env_file = workdir / "sim.env"
    log = (workdir / "sim.log").open("wb")
    process = subprocess.Popen(
        [ORBIT_SIM, "serve", "--env-file", str(env_file), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=clean_env({}),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not (env_file.exists() and "ORBIT_SIM_URL" in env_file.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"orbit-sim serve did not start: {(workdir / 'sim.log').read_text()}"
                )
            time.sleep(0.05)
        yield read_env_file(env_file)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(extra)
    return env


@dataclasses.dataclass
class Host:
    """One machine: its own HOME (tokens, default conf dir ~/.globus/streams)."""

    home: Path
    sim_env: dict[str, str]

    @property
    def conf_dir(self) -> Path:
        return self.home / ".globus" / "streams"

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env({**self.sim_env, "HOME": str(self.home), **extra})

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60):
        return subprocess.run(
            [GLOBUS_STREAMS, *args],
            env=dict(env) if env is not None else self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result


def virtual_clock_server(tmp_path_factory: Any) -> Iterator[dict[str, str]]:
    """Fixture body: one `orbit-sim serve --clock virtual` (each module picks its scope)."""
    with orbit_sim_serve(tmp_path_factory.mktemp("orbit-sim"), "--clock", "virtual") as env:
        yield env


def control_client(sim_env: dict[str, str]) -> Iterator[Any]:
    """Fixture body: the server's control API; the faults a test added end with it."""
    from orbit_sim.control import SimControl

    client = SimControl(sim_env["ORBIT_SIM_URL"])
    try:
        yield client
    finally:
        client.clear_faults()
        client.close()
