"""The library never breaks its host: bad confs, bad variables, unreachable or refusing
access points end as the documented errno on the affected call, the program keeps running
and unrelated sockets are untouched. Also threads, fork and non-blocking sockets."""

from __future__ import annotations

import json
import socket
import sys
import uuid
from pathlib import Path

import pytest

from orbit_globus.lan import Credential, Status
from tests.intercept.targets import free_port, run
from tests.intercept.tunnels import FAKE_PORT, Tunnel

PROBE = Path(__file__).with_name("probe_app.py")
OK = {"connect": "ok", "reply_ok": True}


def probe(tunnel: Tunnel, plain_port: int, *args: str, **env: str) -> dict:  # type: ignore[type-arg]
    tunnel.extra_env.update(env)
    argv = [sys.executable, str(PROBE), tunnel.name, str(FAKE_PORT), str(plain_port), *args]
    result = run(argv, tunnel.env, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    secret = tunnel.credential.secret.encode()
    assert not secret or secret not in result.stderr  # never logged
    outcome = json.loads(result.stdout)
    assert outcome["plain_ok"] is True  # an unrelated connection in the same process
    return outcome


def test_baseline(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    assert probe(tunnel, hash_server.address[1]) == {"resolve": "ok", **OK, "plain_ok": True}


@pytest.mark.parametrize(
    ("ap_credential", "status"),
    [
        (lambda c: Credential("another secret", c.secret_id), None),  # client sees a bad proof
        (lambda c: Credential(c.secret, uuid.uuid4()), Status.STALE_SECRET),
    ],
    ids=["wrong-secret", "stale-secret-id"],
)
def test_refused_handshake_is_econnrefused(tunnels, hash_server, ap_credential, status) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.ap.credential = ap_credential(tunnel.credential)
    outcome = probe(tunnel, hash_server.address[1])
    assert outcome["connect"] == "ECONNREFUSED"
    assert outcome["after_failure"] == "ENOTCONN"  # not left connected to the access point
    assert [o.status for o in tunnel.ap.outcomes] == [status]
    assert [o.bytes_after_refusal for o in tunnel.ap.outcomes] == [0]  # no application byte
    assert len(hash_server.received) == 1  # only the plain connection reached the target


def test_unknown_tunnel_at_access_point(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.ap.tunnel_id = str(uuid.uuid4())
    assert probe(tunnel, hash_server.address[1])["connect"] == "ECONNREFUSED"
    assert [o.status for o in tunnel.ap.outcomes] == [Status.UNKNOWN_TUNNEL]


def test_silent_access_point_times_out(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address, silent=True)
    outcome = probe(tunnel, hash_server.address[1], GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="300")
    assert outcome["connect"] == "ETIMEDOUT"


def test_unreachable_access_point(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(contact=f"127.0.0.1:{free_port()}")
    # No CLI to ask for a fresh contact (test_contact_refresh.py covers the one with a CLI).
    tunnel.extra_env["GLOBUS_STREAMS_CLI"] = "/nonexistent/globus-streams"
    assert probe(tunnel, hash_server.address[1])["connect"] == "EHOSTUNREACH"


@pytest.mark.parametrize("contact", ["", "nonsense", "127.0.0.1:99999", "[::1:80"])
def test_unusable_contact(tunnels, hash_server, contact: str) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.write_conf(contact=contact, ttl=0)
    tunnel.extra_env["GLOBUS_STREAMS_CLI"] = "/nonexistent/globus-streams"
    assert probe(tunnel, hash_server.address[1])["connect"] == "EHOSTUNREACH"


@pytest.mark.parametrize("action", ["delete", "chmod644", "garble"])
def test_conf_broken_after_resolving(tunnels, hash_server, action: str) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    conf = str(tunnel.confs.file(tunnel.id))
    outcome = probe(tunnel, hash_server.address[1], "--break", action, conf)
    assert outcome["resolve"] == "ok"
    assert outcome["connect"] == "EHOSTUNREACH"
    assert tunnel.ap.outcomes == []


@pytest.mark.parametrize(
    "problem", ["missing", "world-readable", "group-writable", "garbled", "not-initiator"]
)
def test_conf_problems_fail_resolution(tunnels, hash_server, problem: str) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    conf = tunnel.confs.file(tunnel.id)
    if problem == "missing":
        conf.unlink()
    elif problem == "world-readable":
        conf.chmod(0o644)
    elif problem == "group-writable":
        conf.chmod(0o620)
    elif problem == "garbled":
        tunnel.confs.write_raw(tunnel.id, b"\x00\xff garbage without equals\n")
    else:
        tunnel.confs.listener(tunnel.id, "s", uuid.uuid4())
    outcome = probe(tunnel, hash_server.address[1])
    assert outcome["resolve"] == socket.EAI_NONAME
    assert "connect" not in outcome


def test_malformed_variables_fall_back(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    outcome = probe(
        tunnel,
        hash_server.address[1],
        GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="ten seconds",
        GLOBUS_STREAMS_TUNNELS=",,not-a-uuid,,",
        GLOBUS_STREAMS_DEBUG="yes please",
        GLOBUS_STREAMS_LOG="/nonexistent/dir/log",
        GLOBUS_STREAMS_CLI="",
        **{f"GLOBUS_STREAMS_INTERCEPT_PORT_{hash_server.address[1]}": "garbage"},
    )
    assert outcome == {"resolve": "ok", **OK, "plain_ok": True}


def test_missing_conf_directory(tunnels, hash_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    outcome = probe(tunnel, hash_server.address[1], GLOBUS_STREAMS_DIR=str(tmp_path / "absent"))
    assert outcome["resolve"] == socket.EAI_NONAME


def test_debug_log_file(tunnels, hash_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    log = tmp_path / "intercept.log"
    probe(tunnel, hash_server.address[1], GLOBUS_STREAMS_LOG=str(log))
    text = log.read_text()
    assert "connected through the access point" in text
    assert tunnel.credential.secret not in text


def test_quiet_without_debug(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    tunnel.extra_env["GLOBUS_STREAMS_DEBUG"] = "0"
    argv = [sys.executable, str(PROBE), tunnel.name, str(FAKE_PORT), str(hash_server.address[1])]
    result = run(argv, tunnel.env)
    assert result.returncode == 0 and result.stderr == b""


def test_empty_lankey_sends_no_handshake(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address, secret="")
    assert probe(tunnel, hash_server.address[1])["reply_ok"] is True
    assert hash_server.received[0].startswith(b"probe payload")  # no GSLA bytes in front


@pytest.mark.parametrize("family", ["4", "6"])
def test_nonblocking_connect_keeps_flags(tunnels, hash_server, family: str) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    outcome = probe(tunnel, hash_server.address[1], "--nonblocking", "--family", family)
    assert outcome["nonblocking_kept"] is True
    assert outcome["connect"] == "ok" and outcome["reply_ok"] is True


def test_threads(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    assert probe(tunnel, hash_server.address[1], "--threads", "16")["threads_ok"] == 16
    assert len(tunnel.ap.outcomes) == 16


def test_fork(tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    outcome = probe(tunnel, hash_server.address[1], "--fork")
    assert outcome["child_ok"] is True and outcome["connect"] == "ok"
