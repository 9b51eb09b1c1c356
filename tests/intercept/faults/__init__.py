"""The C pieces of the fault tests (test_faults_*.py): `fault_host.c`, a plain C host
program the library must not surprise, and `fault_shim.c`, a test-only LD_PRELOAD shim that
makes the library's own calls fail (see the top of each file)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.intercept.targets import reply_for

HERE = Path(__file__).resolve().parent
PAYLOAD = b"fault host payload\n" * 100
DIGEST = reply_for(PAYLOAD)[-64:].decode()


@dataclass(frozen=True)
class FaultPrograms:
    host: Path
    shim: Path  # getrandom, urandom, spawn, replace-conf
    dlsym_shim: Path  # dlsym only


def build_fault_programs(build_module: Any, out: Path) -> FaultPrograms:
    """Built for this machine's libc, like the hosts the library runs in."""
    arch = build_module.host_arch()

    def build(name: str, output: str, extra: list[str]) -> Path:
        return build_module.build_program(arch, [HERE / name], out / output, extra, native=True)

    return FaultPrograms(
        host=build("fault_host.c", "fault_host", []),
        shim=build("fault_shim.c", "fault_shim.so", ["-shared"]),
        dlsym_shim=build("fault_shim.c", "fault_dlsym_shim.so", ["-shared", "-DFAULT_SHIM_DLSYM"]),
    )


@dataclass
class HostRun:
    returncode: int
    fields: dict[str, str]
    stderr: str

    @property
    def reply_ok(self) -> bool:
        return self.fields.get("connect") == "ok" and self.fields.get("tail") == DIGEST


def parse_line(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split() if "=" in item)


def run_host(
    host: Path, name: str, port: int, env: dict[str, str], *options: str, timeout: float = 60
) -> HostRun:
    result = subprocess.run(
        [str(host), name, str(port), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = result.stdout.splitlines()
    return HostRun(result.returncode, parse_line(lines[-1]) if lines else {}, result.stderr)


def fake_cli(folder: Path, contact: str) -> Path:
    """A stand-in `globus-streams` that answers contact-lookup with `contact` and records
    each call in folder/cli.log."""
    script = folder / "globus-streams"
    log = folder / "cli.log"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\necho "{contact}"\n')
    script.chmod(0o700)
    return script


def expired() -> float:
    """An update_time long past any TTL, so the library asks the CLI."""
    return time.time() - 100_000
