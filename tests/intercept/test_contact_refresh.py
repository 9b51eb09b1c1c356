"""Refreshing an expired contact through `$GLOBUS_STREAMS_CLI environment contact-lookup`:
a fake CLI script stands in for globus-streams. The child is bounded by the timeout,
always reaped, holds none of the host's sockets and runs without LD_PRELOAD."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import sys
import time
import uuid
from pathlib import Path

import pytest

from orbit_globus.native import InterceptLibrary
from tests.intercept.confs import ConfDir
from tests.intercept.targets import free_port, run
from tests.intercept.tunnels import FAKE_PORT

FAKE_CLI = """#!/bin/sh
# fake globus-streams: records how it was called, then answers per FAKE_CLI_MODE
{{
  echo "pid $$"
  echo "args $*"
  echo "preload ${{LD_PRELOAD:-none}}"
  for f in /proc/$$/fd/*; do echo "fd $(readlink "$f")"; done
}} >> {log}
case "$FAKE_CLI_MODE" in
  ok) echo "$FAKE_CLI_CONTACT" ;;
  fail) echo "not logged in" >&2; exit 3 ;;
  hang) exec sleep 30 ;;
esac
"""


@pytest.fixture
def fake_cli(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "cli.log"
    script = tmp_path / "globus-streams"
    script.write_text(FAKE_CLI.format(log=log))
    script.chmod(stat.S_IRWXU)
    return script, log


def calls(log: Path) -> list[dict[str, list[str]]]:
    """One dict per invocation: key -> values seen."""
    found: list[dict[str, list[str]]] = []
    if not log.exists():
        return found
    for line in log.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "pid":
            found.append({})
        found[-1].setdefault(key, []).append(value)
    return found


def reaped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return True


def test_lookup_runs_cli_cleanly(native: InterceptLibrary, fake_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    tid = str(uuid.uuid4())
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(script))
    monkeypatch.setenv("FAKE_CLI_MODE", "ok")
    monkeypatch.setenv("FAKE_CLI_CONTACT", "127.0.0.1:5555")
    monkeypatch.setenv("LD_PRELOAD", "/nonexistent/lib.so")  # must not reach the child
    with socket.socket() as listener:  # an inheritable listener the child must not hold
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        os.set_inheritable(listener.fileno(), True)
        assert native.contact_lookup(tid, timeout=10) == "127.0.0.1:5555"
    (call,) = calls(log)
    assert call["args"] == [f"environment contact-lookup {tid}"]
    assert call["preload"] == ["none"]
    assert not [fd for fd in call["fd"] if fd.startswith("socket:")]
    assert reaped(int(call["pid"][0]))


@pytest.mark.parametrize(("mode", "code"), [("fail", errno.EIO), ("hang", errno.ETIMEDOUT)])
def test_lookup_failures(native: InterceptLibrary, fake_cli, monkeypatch, mode, code) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(script))
    monkeypatch.setenv("FAKE_CLI_MODE", mode)
    with pytest.raises(OSError) as caught:
        native.contact_lookup(str(uuid.uuid4()), timeout=0.5)
    assert caught.value.errno == code
    assert reaped(int(calls(log)[0]["pid"][0]))  # killed (hang) and waited for, no zombie


def test_lookup_without_cli(native: InterceptLibrary, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(tmp_path / "missing"))
    with pytest.raises(OSError) as caught:
        native.contact_lookup(str(uuid.uuid4()))
    assert caught.value.errno == errno.ENOENT


PROBE = Path(__file__).with_name("probe_app.py")


def _probe(tunnel, plain_port: int, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    argv = [sys.executable, str(PROBE), tunnel.name, str(FAKE_PORT), str(plain_port), *args]
    result = run(argv, tunnel.env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


@pytest.mark.parametrize("stale", ["expired", "missing"])
def test_connect_refreshes_expired_contact(tunnels, hash_server, fake_cli, stale: str) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    old = f"127.0.0.1:{free_port()}" if stale == "expired" else ""
    tunnel.write_conf(contact=old, ttl=10, updated=time.time() - 100)
    tunnel.extra_env.update(
        GLOBUS_STREAMS_CLI=str(script), FAKE_CLI_MODE="ok", FAKE_CLI_CONTACT=tunnel.ap.contact
    )
    outcome = _probe(tunnel, hash_server.address[1], "--repeat", "3")
    assert outcome["connect"] == "ok" and outcome["reply_ok"] is True
    assert len(calls(log)) == 1  # asked once, remembered for the TTL
    assert len(tunnel.ap.outcomes) == 3


def test_fresh_contact_spawns_nothing(tunnels, hash_server, fake_cli) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    tunnel.extra_env.update(GLOBUS_STREAMS_CLI=str(script), FAKE_CLI_MODE="ok")
    assert _probe(tunnel, hash_server.address[1])["connect"] == "ok"
    assert calls(log) == []


def test_failed_refresh_falls_back_to_the_expired_contact(tunnels, hash_server, fake_cli) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(ttl=10, updated=time.time() - 100)  # expired, but still right
    tunnel.extra_env.update(GLOBUS_STREAMS_CLI=str(script), FAKE_CLI_MODE="fail")
    assert _probe(tunnel, hash_server.address[1], "--repeat", "2")["connect"] == "ok"
    assert len(calls(log)) == 1  # not asked again right away


def test_hung_cli_is_bounded(tunnels, hash_server, fake_cli) -> None:  # type: ignore[no-untyped-def]
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(contact="", ttl=10, updated=time.time() - 100)
    tunnel.extra_env.update(
        GLOBUS_STREAMS_CLI=str(script),
        FAKE_CLI_MODE="hang",
        GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="500",
    )
    assert _probe(tunnel, hash_server.address[1])["connect"] == "EHOSTUNREACH"
    assert reaped(int(calls(log)[0]["pid"][0]))


def test_contact_entry_point_formats_ipv6(
    native: InterceptLibrary, confs: ConfDir, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    tid = str(uuid.uuid4())
    confs.initiator(tid, "[::1]:7000", "s", uuid.uuid4())
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(confs.path))
    assert native.contact(tid) == "[::1]:7000"
