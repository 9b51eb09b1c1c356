"""Refreshing an expired contact through `$GLOBUS_STREAMS_CLI environment contact-lookup`:
a fake CLI script stands in for globus-streams. The child is bounded by the timeout,
always reaped, holds none of the host's sockets and runs without LD_PRELOAD. A contact
refused within its TTL (a restarted tunnel) is looked up once more with `--refresh`."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import stat
import sys
import time
import uuid
from pathlib import Path

import pytest

from orbit_globus.native import InterceptLibrary
from tests.intercept.confs import ConfDir
from tests.intercept.netutil import Background
from tests.intercept.targets import free_port, run
from tests.intercept.tunnels import FAKE_PORT

FAKE_CLI = """#!/bin/sh
# fake globus-streams: records how it was called, then answers per FAKE_CLI_MODE
{{
  echo "pid $$"
  echo "args $*"
  echo "preload ${{LD_PRELOAD:-none}}"
  for f in /proc/$$/fd/*; do echo "fd $(readlink "$f")"; done
  # read by the shell itself: a child (sed) would see the mask the shell holds while it forks
  while read -r key value; do
    case "$key" in SigBlk:) echo "sigblk $value" ;; SigIgn:) echo "sigign $value" ;; esac
  done < /proc/$$/status
}} >> {log}
case "$FAKE_CLI_MODE" in
  ok) echo "$FAKE_CLI_CONTACT" ;;
  linger) echo "$FAKE_CLI_CONTACT"; exec >&-; exec sleep 30 ;;  # answers, never exits
  gate)  # the gated tunnel's lookup waits until the test opens the gate
    if [ "$3" = "$FAKE_CLI_GATED" ]; then
      i=0; while [ ! -e "$FAKE_CLI_GATE" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
    fi
    echo "$FAKE_CLI_CONTACT" ;;
  rewrite)  # like globus-streams: the fetched contact also lands in the conf
    sed -i -e "s/^connector_contact_string=.*/connector_contact_string=$FAKE_CLI_CONTACT/" \
      -e "s/^update_time=.*/update_time=$(date +%s)/" "$GLOBUS_STREAMS_DIR/$3.conf"
    echo "$FAKE_CLI_CONTACT" ;;
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


def test_lookup_bounded_by_the_deadline_after_the_answer(
    native: InterceptLibrary, fake_cli, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A CLI that prints its line, closes stdout and lingers is stopped at the deadline
    (not waited for): the lookup fails with ETIMEDOUT and the child is killed and reaped."""
    script, log = fake_cli
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(script))
    monkeypatch.setenv("FAKE_CLI_MODE", "linger")
    monkeypatch.setenv("FAKE_CLI_CONTACT", "127.0.0.1:5555")
    with pytest.raises(OSError) as caught:
        native.contact_lookup(str(uuid.uuid4()), timeout=1)
    assert caught.value.errno == errno.ETIMEDOUT
    assert reaped(int(calls(log)[0]["pid"][0]))


def test_cli_starts_with_default_signal_state(
    native: InterceptLibrary, fake_cli, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """posix_spawn resets what the host set: no blocked signal, none ignored."""
    script, log = fake_cli
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(script))
    monkeypatch.setenv("FAKE_CLI_MODE", "ok")
    monkeypatch.setenv("FAKE_CLI_CONTACT", "127.0.0.1:5555")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    old_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    try:
        assert native.contact_lookup(str(uuid.uuid4()), timeout=10) == "127.0.0.1:5555"
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGUSR2, old_usr2)
    (call,) = calls(log)
    assert int(call["sigblk"][0], 16) == 0
    standard = (1 << 31) - 1  # signals 1-31 (glibc keeps its internal 32 and 33 to itself)
    assert int(call["sigign"][0], 16) & standard == 0


def test_one_forced_lookup_per_tunnel_with_many_tunnels(
    native: InterceptLibrary, confs: ConfDir, fake_cli, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """While tunnel A's --refresh lookup runs, nine other tunnels' lookups must not make
    A's next caller run a second one: it waits for and shares the first one's answer."""
    script, log = fake_cli
    gate = tmp_path / "gate"
    tunnel_a, others = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(9)]
    for tid in (tunnel_a, *others):
        confs.initiator(tid, "127.0.0.1:6", "s", uuid.uuid4())
    for name, value in {
        "GLOBUS_STREAMS_DIR": str(confs.path),
        "GLOBUS_STREAMS_CLI": str(script),
        "FAKE_CLI_MODE": "gate",
        "FAKE_CLI_GATED": tunnel_a,
        "FAKE_CLI_GATE": str(gate),
        "FAKE_CLI_CONTACT": "127.0.0.1:7",
    }.items():
        monkeypatch.setenv(name, value)

    def a_calls() -> int:
        return sum(1 for c in calls(log) if c["args"][0].split()[2] == tunnel_a)

    first = Background(lambda: native.contact_refresh(tunnel_a, "127.0.0.1:6"))
    wait_until(lambda: a_calls() == 1)
    for tid in others:
        assert native.contact_refresh(tid, "127.0.0.1:6") == "127.0.0.1:7"
    second = Background(lambda: native.contact_refresh(tunnel_a, "127.0.0.1:6"))
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: a_calls() > 1, timeout=1.5)  # a second lookup would show here
    gate.touch()
    assert first.result() == second.result() == "127.0.0.1:7"
    assert a_calls() == 1


def wait_until(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


@pytest.mark.parametrize("ttl", ["1e303", "inf", "nan", "0x10", "-5"])
def test_malformed_ttl_means_the_default(
    native: InterceptLibrary, confs: ConfDir, fake_cli, monkeypatch, ttl: str
) -> None:  # type: ignore[no-untyped-def]
    """A TTL that is not plain decimal counts as absent (60 s): the CLI's answer is kept,
    not expired at once (which made every connect run the CLI)."""
    script, log = fake_cli
    tid = str(uuid.uuid4())
    confs.write(tid, role="initiator", lankey="s", connector_contact_string_ttl=ttl)
    monkeypatch.setenv("GLOBUS_STREAMS_DIR", str(confs.path))
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(script))
    monkeypatch.setenv("FAKE_CLI_MODE", "ok")
    monkeypatch.setenv("FAKE_CLI_CONTACT", "127.0.0.1:5555")
    assert native.contact(tid) == native.contact(tid) == "127.0.0.1:5555"
    assert len(calls(log)) == 1


def test_lookup_without_cli(native: InterceptLibrary, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GLOBUS_STREAMS_CLI", str(tmp_path / "missing"))
    with pytest.raises(OSError) as caught:
        native.contact_lookup(str(uuid.uuid4()))
    assert caught.value.errno == errno.ENOENT


PROBE = Path(__file__).with_name("probe_app.py")


def _probe_with_log(tunnel, plain_port: int, *args: str) -> tuple[dict, str]:  # type: ignore[no-untyped-def,type-arg]
    """The probe's outcome and its debug output."""
    argv = [sys.executable, str(PROBE), tunnel.name, str(FAKE_PORT), str(plain_port), *args]
    result = run(argv, tunnel.env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout), result.stderr.decode()


def _probe(tunnel, plain_port: int, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return _probe_with_log(tunnel, plain_port, *args)[0]


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


# -- a contact refused within its TTL (the tunnel restarted, its access point moved) ------


def _refused_contact() -> str:
    return f"127.0.0.1:{free_port()}"  # nothing listens there: the connection is refused


def _moved_tunnel(tunnels, hash_server, fake_cli, mode: str, answer: str = "access point"):  # type: ignore[no-untyped-def]
    """A tunnel whose conf holds, within its TTL, a contact nobody listens on any more; the
    fake CLI answers with the access point's contact, another refused one or the same one.
    Returns the tunnel, the CLI's call log and the refused contact."""
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    old = _refused_contact()
    tunnel.write_conf(contact=old)
    fresh = {"access point": tunnel.ap.contact, "same": old}.get(answer) or _refused_contact()
    tunnel.extra_env.update(
        GLOBUS_STREAMS_CLI=str(script), FAKE_CLI_MODE=mode, FAKE_CLI_CONTACT=fresh
    )
    return tunnel, log, old


@pytest.mark.parametrize(
    "socket_args",
    [(), ("--nonblocking",), ("--family", "6")],
    ids=["blocking", "nonblocking", "v6-socket"],
)
def test_refused_fresh_contact_is_refreshed_once(
    tunnels, hash_server, fake_cli, socket_args
) -> None:  # type: ignore[no-untyped-def]
    tunnel, log, old = _moved_tunnel(tunnels, hash_server, fake_cli, "rewrite")
    outcome, debug = _probe_with_log(tunnel, hash_server.address[1], "--repeat", "3", *socket_args)
    assert outcome["connect"] == "ok" and outcome["reply_ok"] is True
    assert outcome.get("nonblocking_kept", True) is True
    (call,) = calls(log)  # once: the later connections find the new contact in the conf
    assert call["args"] == [f"environment contact-lookup {tunnel.id} --refresh"]
    assert len(tunnel.ap.outcomes) == 3
    assert f"the access point {old} refused the connection" in debug
    assert f"retrying once with the fresh contact {tunnel.ap.contact}" in debug


@pytest.mark.parametrize("answer", ["another refused", "same"])
def test_refused_refreshed_contact_fails_after_one_lookup(
    tunnels, hash_server, fake_cli, answer
) -> None:  # type: ignore[no-untyped-def]
    tunnel, log, _ = _moved_tunnel(tunnels, hash_server, fake_cli, "ok", answer)
    outcome, debug = _probe_with_log(tunnel, hash_server.address[1], "--repeat", "2")
    assert outcome["connect"] == "EHOSTUNREACH"  # as any unreachable access point
    assert outcome["after_failure"] == "ENOTCONN"
    # One lookup: no loop inside connect(), and the second connect() within 5 s reuses its
    # answer instead of running the CLI again.
    (call,) = calls(log)
    assert call["args"] == [f"environment contact-lookup {tunnel.id} --refresh"]
    assert debug.count("asking the CLI for a fresh contact") == 1
    assert "taking the contact the CLI gave moments ago" in debug
    assert tunnel.ap.outcomes == []


def test_concurrent_refusals_share_one_lookup(tunnels, hash_server, fake_cli) -> None:  # type: ignore[no-untyped-def]
    # The fake CLI leaves the conf alone: every thread meets the refused contact.
    tunnel, log, _ = _moved_tunnel(tunnels, hash_server, fake_cli, "ok")
    outcome = _probe(tunnel, hash_server.address[1], "--threads", "4")
    assert outcome["threads_ok"] == 4
    assert len(calls(log)) == 1
    assert len(tunnel.ap.outcomes) == 4


def test_failed_refresh_is_not_repeated_at_once(tunnels, hash_server, fake_cli) -> None:  # type: ignore[no-untyped-def]
    tunnel, log, _ = _moved_tunnel(tunnels, hash_server, fake_cli, "fail")
    outcome, debug = _probe_with_log(tunnel, hash_server.address[1], "--repeat", "2")
    assert outcome["connect"] == "EHOSTUNREACH"
    assert len(calls(log)) == 1
    assert "without an answer, not asking again yet" in debug


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_contact_the_cli_just_gave_is_not_refreshed(tunnels, hash_server, fake_cli, mode) -> None:  # type: ignore[no-untyped-def]
    """Expired conf: the CLI was just asked (and answered, or failed and the expired contact
    is tried); a refusal then does not ask it again."""
    script, log = fake_cli
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(contact=_refused_contact(), ttl=10, updated=time.time() - 100)
    tunnel.extra_env.update(
        GLOBUS_STREAMS_CLI=str(script), FAKE_CLI_MODE=mode, FAKE_CLI_CONTACT=_refused_contact()
    )
    outcome, debug = _probe_with_log(tunnel, hash_server.address[1])
    assert outcome["connect"] == "EHOSTUNREACH"
    (call,) = calls(log)
    assert call["args"] == [f"environment contact-lookup {tunnel.id}"]  # no --refresh
    assert "refused the connection" not in debug
