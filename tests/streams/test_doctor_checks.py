"""Doctor's probe against real GSLA servers on loopback, and its variable checks."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orbit_globus.lan import Credential, ServerHandshake, Status, lookup_for, server_handshake
from orbit_globus.lan.handshake import Lookup
from orbit_globus.streams.conf import TunnelConf
from orbit_globus.streams.probe import probe_access_point
from orbit_globus.streams.variables import check_variables

TUNNEL = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb"
SECRET_ID = uuid.UUID("5a4c7e0e-3f0e-4a8e-9a53-6a2f4f7c1e11")


def conf_with(tmp_path: Path, secret: str = "right") -> TunnelConf:
    conf = TunnelConf.new(TUNNEL, tmp_path)
    conf.set(role="initiator", lankey=secret, lankey_id=str(SECRET_ID))
    return conf


@pytest.fixture
def access_point() -> Iterator[tuple[str, list[Status | None], list[Lookup]]]:
    """A one-connection GSLA server: (contact, statuses it ended with, its lookup slot)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    statuses: list[Status | None] = []
    lookups: list[Lookup] = [lookup_for(TUNNEL, Credential("right", SECRET_ID))]

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            try:
                statuses.append(server_handshake(conn, ServerHandshake(lookups[0]), timeout=5))
            except (OSError, ConnectionError):
                statuses.append(None)  # the client left before RESPONSE

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}", statuses, lookups
    finally:
        server.close()
        thread.join(timeout=10)


def test_right_secret_passes_and_no_stream_is_opened(tmp_path, access_point):
    contact, statuses, _ = access_point
    assert probe_access_point(conf_with(tmp_path), contact, timeout=5) is None
    socket.create_connection(("127.0.0.1", int(contact.rsplit(":", 1)[1])), timeout=1).close()
    # the server never saw a RESPONSE: the probe stopped after checking the proof
    assert statuses in ([None], [])


def test_wrong_secret_is_caught_by_the_servers_proof(tmp_path, access_point):
    contact, _, _ = access_point
    problem = probe_access_point(conf_with(tmp_path, secret="wrong"), contact, timeout=5)
    assert problem is not None and "AUTH_FAILED" in problem and "initialize --force" in problem
    assert "wrong" not in problem and "right" not in problem


@pytest.mark.parametrize(
    "status, words",
    [(Status.STALE_SECRET, "replaced or revoked"), (Status.UNKNOWN_TUNNEL, "--refresh")],
)
def test_refusals_say_what_to_do(tmp_path, access_point, status, words):
    contact, _, lookups = access_point
    lookups[0] = lambda hello: status
    problem = probe_access_point(conf_with(tmp_path), contact, timeout=5)
    assert problem is not None and status.name in problem and words in problem


def test_nothing_listening_and_silence(tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    problem = probe_access_point(conf_with(tmp_path), f"127.0.0.1:{port}", timeout=2)
    assert problem is not None and "refuses connections" in problem
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        contact = f"127.0.0.1:{silent.getsockname()[1]}"
        problem = probe_access_point(conf_with(tmp_path), contact, timeout=0.5)
    assert problem is not None and "no LAN handshake answer within 0.5 s" in problem
    assert "bad contact" in probe_access_point(conf_with(tmp_path), "no-port", timeout=1)


def test_no_secret_means_a_connection_is_enough(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as server:
        contact = f"127.0.0.1:{server.getsockname()[1]}"
        assert probe_access_point(conf_with(tmp_path, secret=""), contact, timeout=1) is None


# -- variables --------------------------------------------------------------------------------


def messages(env: dict[str, str]) -> list[str]:
    return [f.line() for f in check_variables(env)]


def test_a_clean_environment_has_no_findings():
    assert messages({"PATH": "/bin", "HOME": "/root"}) == []
    assert messages({"GLOBUS_STREAMS_DIR": "/x", "GLOBUS_STREAMS_DEBUG": "0"}) == []


def test_typos_and_bad_values(tmp_path):
    cli = tmp_path / "globus-streams"
    cli.write_text("#!/bin/sh\n")
    cli.chmod(0o755)
    lib = tmp_path / "libglobus_streams_client.so.0"
    lib.write_bytes(b"")
    env = {
        "GLOBUS_STREAMS_TUNNEL": TUNNEL,  # singular: a typo
        "GLOBUS_STREAMS_INTERCEPT_PORT_80x": TUNNEL,
        "GLOBUS_STREAMS_INTERCEPT_PORT_8080": "not-a-uuid",
        "GLOBUS_STREAMS_TUNNELS": f"{TUNNEL},nope",
        "GLOBUS_STREAMS_DEBUG": "yes",
        "GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS": "0",
        "GLOBUS_STREAMS_CLI": str(cli),
        "LD_PRELOAD": str(lib),
    }
    lines = messages(env)
    expected = [
        "GLOBUS_STREAMS_TUNNEL is not a variable",
        "GLOBUS_STREAMS_INTERCEPT_PORT_80x names no port",
        "GLOBUS_STREAMS_INTERCEPT_PORT_8080 is not a tunnel id",
        "GLOBUS_STREAMS_TUNNELS has 1 item(s)",
        "GLOBUS_STREAMS_DEBUG is neither 0 nor 1",
        "GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS is not 1..3600000",
    ]
    for fragment in expected:
        assert sum(fragment in line for line in lines) == 1, (fragment, lines)
    assert len(lines) == len(expected) and all(line.startswith("warning:") for line in lines)


def test_preload_without_tunnels_and_tunnels_without_preload(tmp_path):
    lib = tmp_path / "libglobus_streams_client.so.0"
    lib.write_bytes(b"")
    [stray] = messages({"LD_PRELOAD": f"/usr/lib/other.so:{lib}"})
    assert "names no tunnel" in stray
    [missing] = messages({"GLOBUS_STREAMS_INTERCEPT_PORT_8080": TUNNEL})
    assert "LD_PRELOAD does not load the intercept library" in missing
    [gone] = messages({"LD_PRELOAD": "/nowhere/libglobus_streams_client.so.0"})
    assert "does not exist" in gone
    [blocks] = messages({"GLOBUS_STREAMS_CLI": "/nowhere/globus-streams"})
    assert blocks.startswith("error: variables: GLOBUS_STREAMS_CLI")


def test_half_of_the_client_credentials_never_shows_the_secret():
    [line] = messages({"GLOBUS_STREAMS_CLIENT_SECRET": "very-secret-value"})
    assert "GLOBUS_STREAMS_CLIENT_ID is not" in line and "very-secret-value" not in line
    assert messages({"GLOBUS_STREAMS_LOG": "/tmp/x.log"}) == [
        "warning: variables: GLOBUS_STREAMS_LOG does nothing without GLOBUS_STREAMS_DEBUG=1"
    ]
