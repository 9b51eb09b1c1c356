"""The library's own calls failing, injected by a test-only LD_PRELOAD shim
(tests/intercept/faults/fault_shim.c) into a plain C host (fault_host.c): no source of
randomness, no libc symbols, no process for the CLI, a conf swapped between the library's
stat() and open(). Each ends as an errno on the affected call (SPEC 3.4), never a crash or
a hang, and the shim's log shows the fault was really reached."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.intercept.faults import FaultPrograms, build_fault_programs, expired, fake_cli, run_host
from tests.intercept.tunnels import FAKE_PORT, Tunnel


@pytest.fixture(scope="module")
def programs(build_module, tmp_path_factory) -> FaultPrograms:  # type: ignore[no-untyped-def]
    return build_fault_programs(build_module, tmp_path_factory.mktemp("faults"))


def shimmed(tunnel: Tunnel, shim: Path, faults: str, log: Path, **extra: str) -> dict[str, str]:
    env = tunnel.env
    env.update(LD_PRELOAD=f"{shim} {env['LD_PRELOAD']}", FAULT_SHIM=faults, **extra)
    env["FAULT_SHIM_LOG"] = str(log)
    return env


def shim_log(log: Path) -> str:
    return log.read_text() if log.exists() else ""


def test_getrandom_unavailable_falls_back_to_urandom(
    programs, tunnels, hash_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    log = tmp_path / "shim.log"
    env = shimmed(tunnel, programs.shim, "getrandom", log)
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env)
    assert run.reply_ok, run
    assert "getrandom refused" in shim_log(log)


def test_no_randomness_at_all_refuses_the_connection(
    programs, tunnels, hash_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    log = tmp_path / "shim.log"
    env = shimmed(tunnel, programs.shim, "getrandom,urandom", log)
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env)
    assert run.returncode == 1, run
    assert run.fields["connect"] == "ECONNREFUSED"
    assert "no randomness" in run.stderr
    assert {"getrandom refused", "/dev/urandom refused"} <= set(
        line.removeprefix("fault-shim: ") for line in shim_log(log).splitlines()
    )
    assert hash_server.received == []  # nothing reached the far side


def test_dlsym_failing_gives_errors_not_crashes(
    programs, tunnels, hash_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    if b"__asan_init" in tunnel.library.read_bytes():
        pytest.skip("the sanitizer build's ASan runtime finds its own interceptors with dlsym")
    log = tmp_path / "shim.log"
    env = shimmed(tunnel, programs.dlsym_shim, "dlsym", log)
    through_tunnel = run_host(programs.host, tunnel.name, FAKE_PORT, env)
    assert through_tunnel.returncode == 1, through_tunnel  # an error, not a signal
    assert "ok" not in (through_tunnel.fields["resolve"], through_tunnel.fields.get("connect"))
    assert "libc has no" in through_tunnel.stderr  # says why
    ordinary = run_host(programs.host, "localhost", hash_server.address[1], env)
    assert ordinary.returncode == 1, ordinary
    assert ordinary.fields["resolve"] != "ok"
    assert "dlsym refused" in shim_log(log)


def test_posix_spawn_failing_uses_the_expired_contact(
    programs, tunnels, hash_server, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """As under RLIMIT_NPROC (which root ignores, hence the shim): the CLI cannot start, so
    the expired contact is tried, and here it still works."""
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(updated=expired(), ttl=60)
    cli = fake_cli(tmp_path, tunnel.ap.contact)
    log = tmp_path / "shim.log"
    env = shimmed(tunnel, programs.shim, "spawn", log, GLOBUS_STREAMS_CLI=str(cli))
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env)
    assert run.reply_ok, run
    assert "posix_spawn refused" in shim_log(log)
    assert "cannot start" in run.stderr
    assert not (tmp_path / "cli.log").exists()


def _replacement(kind: str, tunnel: Tunnel, folder: Path) -> Path:
    path = folder / "replacement"
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    else:
        conf = tunnel.write_conf()  # a valid conf, moved aside as the replacement
        conf.rename(path)
        tunnel.write_conf()
        path.chmod(0o644 if kind == "group-readable" else 0o600)
    return path


@pytest.mark.parametrize("kind", ["fifo", "group-readable", "valid"])
def test_conf_replaced_between_stat_and_open(
    programs, tunnels, hash_server, tmp_path: Path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    replacement = _replacement(kind, tunnel, tmp_path)
    log = tmp_path / "shim.log"
    env = shimmed(
        tunnel, programs.shim, "replace-conf", log, FAULT_SHIM_REPLACEMENT=str(replacement)
    )
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env)  # a hang fails by timeout
    assert "conf replaced between stat and open" in shim_log(log)
    assert run.returncode >= 0, run  # never a signal
    if kind == "valid":
        assert run.reply_ok, run
    else:  # what was opened is checked, not what was stat()ed
        assert run.returncode == 1, run
        assert run.fields["resolve"] != "ok"
        assert hash_server.received == []


def test_shim_really_reaches_the_library(programs, tunnels, hash_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without faults the shim changes nothing: the same host gets its reply."""
    tunnel = tunnels(hash_server.address)
    env = shimmed(tunnel, programs.shim, "", tmp_path / "shim.log")
    run = run_host(programs.host, tunnel.name, FAKE_PORT, env)
    assert run.reply_ok, run
    assert run.returncode != -signal.SIGSEGV
