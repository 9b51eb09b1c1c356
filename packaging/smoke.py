"""Smoke check of an installed copy of the tools: the Streaming User Guide's nc example
through a loopback simulator, using only that copy's `globus-streams` and launcher.

The environment starts from a bare PATH, so nothing leaks in from the development
virtualenv; `tools_env` adds the copy (a venv's bin, or the variables a sourced
globus-streams-env sets). Tests and benchmarks/bench_packaging.py share it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from orbit_sim.testing import free_port, wait_listening

BARE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NC = "nc.openbsd"
LAUNCHER = "globus-streams-launch.sh"
TIMEOUT = 60


class SmokeFailed(AssertionError):
    """The example did not carry the bytes; the message holds the tools' own words."""


def bare_env(*path_dirs: Path) -> dict[str, str]:
    """A minimal environment whose PATH has `path_dirs` before the system's."""
    path = os.pathsep.join([*(str(d) for d in path_dirs), BARE_PATH])
    return {"PATH": path, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME", "/root")}


def sourced_env(env_file: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The environment after `. env_file` in a POSIX shell started with `base`."""
    result = subprocess.run(
        ["sh", "-c", '. "$1" && env -0', "sh", str(env_file)],
        env=dict(base),
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    pairs = (item.split(b"=", 1) for item in result.stdout.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode() for key, value in pairs}


def _side(root: Path, name: str, server_env: Mapping[str, str], tools_env: Mapping[str, str]):
    home = root / name
    (home / ".globus").mkdir(parents=True, exist_ok=True, mode=0o700)
    return {
        **tools_env,
        **server_env,
        "HOME": str(home),
        "GLOBUS_STREAMS_DIR": str(home / ".globus" / "streams"),
    }


def _output(argv: Sequence[str], env: Mapping[str, str], what: str) -> str:
    """stdout of `argv` run on a side (in its HOME), or SmokeFailed with its stderr."""
    result = subprocess.run(
        list(argv), env=dict(env), cwd=env["HOME"], capture_output=True, text=True, timeout=TIMEOUT
    )
    if result.returncode != 0:
        raise SmokeFailed(f"{what}: {result.stderr.strip()}")
    return result.stdout


def _cli(env: Mapping[str, str], *args: str) -> str:
    return _output(["globus-streams", *args], env, f"globus-streams {' '.join(args[:2])}")


@dataclass
class Example:
    """A tunnel the example ran through, with each side's environment."""

    tunnel_id: str
    listener_env: dict[str, str]
    initiator_env: dict[str, str]
    listener_port: int
    contact_host: str  # globus.<tunnel_id>
    contact_port: int

    def preloaded_library(self, launcher: str = LAUNCHER) -> str:
        """LD_PRELOAD as the launcher sets it for a program on the initiator side."""
        show = ["sh", "-c", 'printf %s "$LD_PRELOAD"']
        return _output([launcher, self.tunnel_id, *show], self.initiator_env, launcher)


def _stop(procs: Sequence[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=TIMEOUT)


def open_example_tunnel(
    server_env: Mapping[str, str], root: Path, tools_env: Mapping[str, str]
) -> Example:
    """Create a tunnel and initialize both sides with the copy's CLI, as the guide does.

    Every program runs in its side's HOME, as a user would: not in the source tree, whose
    `orbit_globus/` a `python -c` in the tools could otherwise import instead."""
    listener = _side(root, "listener", server_env, tools_env)
    initiator = _side(root, "initiator", server_env, tools_env)
    port = free_port()
    create = ["tunnel", "create", server_env["ORBIT_SIM_INITIATOR_AP"]]
    tunnel_id = _cli(initiator, *create, server_env["ORBIT_SIM_LISTENER_AP"]).strip()
    _cli(listener, "environment", "initialize", "--listener-contact-string",
         f"127.0.0.1:{port}", tunnel_id)  # fmt: skip
    out = _cli(initiator, "environment", "initialize", tunnel_id)
    contact = next(line for line in out.splitlines() if "contact string is" in line)
    host, contact_port = contact.rsplit(" ", 1)[1].rsplit(":", 1)
    return Example(tunnel_id, listener, initiator, port, host, int(contact_port))


def send_through(
    example: Example,
    payload: bytes,
    *,
    launcher: str = LAUNCHER,
    client: Sequence[str] | None = None,
    client_env: Mapping[str, str] | None = None,
) -> None:
    """`nc -l` under the launcher on the listener side must receive `payload` from the
    initiator side's `client` (default: `nc -N CONTACT` under the launcher)."""
    if client is None:
        client = [launcher, example.tunnel_id, NC, "-N", example.contact_host,
                  str(example.contact_port)]  # fmt: skip
    client_env = example.initiator_env if client_env is None else client_env
    procs: list[subprocess.Popen] = []
    try:
        server = subprocess.Popen(
            [launcher, example.tunnel_id, NC, "-l", str(example.listener_port)],
            env=example.listener_env,
            cwd=example.listener_env["HOME"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(server)
        wait_listening(example.listener_port, server, timeout=TIMEOUT)
        sender = subprocess.Popen(
            list(client),
            env=dict(client_env),
            cwd=example.initiator_env["HOME"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(sender)
        _, client_err = sender.communicate(payload, timeout=TIMEOUT)
        received, server_err = server.communicate(timeout=TIMEOUT)
    except (subprocess.TimeoutExpired, RuntimeError, TimeoutError) as exc:
        raise SmokeFailed(f"nc example did not finish: {exc}") from None
    finally:
        _stop(procs)
    if received != payload:
        raise SmokeFailed(
            f"listener got {len(received)} of {len(payload)} bytes; initiator said "
            f"{client_err.decode(errors='replace').strip()!r}, listener said "
            f"{server_err.decode(errors='replace').strip()!r}"
        )


def run_nc_example(
    server_env: Mapping[str, str],
    root: Path,
    tools_env: Mapping[str, str],
    *,
    launcher: str = LAUNCHER,
    payload: bytes = b"hello through the tunnel\n" * 64,
) -> Example:
    """The guide's example: a tunnel initialized on both sides, then `nc -l` under the
    launcher on the listener side receives `payload` from `nc` under the launcher on the
    initiator side."""
    example = open_example_tunnel(server_env, root, tools_env)
    send_through(example, payload, launcher=launcher)
    return example
