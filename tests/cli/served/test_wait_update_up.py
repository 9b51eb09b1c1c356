"""tunnel update, tunnel wait, up (then real nc through the tunnel), and what a finished
tunnel does to contact-lookup and cleanup."""

from __future__ import annotations

import json
import socket
import subprocess

from orbit_globus.streams.conf import TunnelConf
from orbit_globus.streams.errors import ExitCode
from orbit_sim.testing import wait_listening

from ..server import GLOBUS_STREAMS, LAUNCHER
from .checks import create_tunnel, json_error, json_out, text_error


def test_update_changes_label_and_lifetime(listener, tunnel):
    updated = json_out(
        listener.run("tunnel", "update", tunnel, "--label", "nightly", "--lifetime-mins", "45",
                     "-F", "json")
    )  # fmt: skip
    assert updated["attributes"]["label"] == "nightly"
    assert updated["attributes"]["lifetime_mins"] == 45
    shown = json_out(listener.run("tunnel", "show", tunnel, "-F", "json"))
    assert shown["attributes"]["lifetime_mins"] == 45


def test_a_shorter_lifetime_ends_the_tunnel_sooner(listener, tunnel, control):
    listener.ok("tunnel", "update", tunnel, "--lifetime-mins", "2")
    control.advance(121)  # past the new lifetime, well within the old one (20 min)
    assert listener.ok("tunnel", "wait", tunnel, "--state", "STOPPED", "--timeout", "30")


def test_wait_returns_when_the_control_api_stops_the_tunnel(listener, tunnel, control):
    listener.ok("environment", "initialize", tunnel, "--listener-contact-string", "127.0.0.1:9")
    # -vv logs each request: the first GET shows that the wait is under way, on ACTIVE.
    waiting = subprocess.Popen(
        [GLOBUS_STREAMS, "-vv", "tunnel", "wait", tunnel, "--state", "STOPPED", "-F", "json"],
        env=listener.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in waiting.stderr:
            if f"GET to /v2/tunnels/{tunnel}" in line:
                break
        assert waiting.poll() is None  # ACTIVE is not STOPPED: still waiting
        control.expire_tunnel(tunnel)  # straight to STOPPED
        out, _ = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.communicate(timeout=10)
    assert waiting.returncode == 0
    assert json.loads(out) == {"id": tunnel, "state": "STOPPED"}


def test_wait_for_stopping_is_met_by_a_stop_request(listener, tunnel, control):
    listener.ok("environment", "initialize", tunnel, "--listener-contact-string", "127.0.0.1:9")
    control.stop_tunnel(tunnel)
    reached = listener.ok("tunnel", "wait", tunnel, "--state", "stopping")
    assert reached.stdout == f"tunnel {tunnel} is STOPPING\n"
    control.advance(5)  # STOPPED has passed STOPPING as well
    assert listener.ok("tunnel", "wait", tunnel, "--state", "STOPPING").stdout.endswith(
        "is STOPPED\n"
    )


def test_wait_times_out_or_gives_up_at_once(listener, tunnel, control):
    timed_out = listener.run("tunnel", "wait", tunnel, "--state", "ACTIVE", "--timeout", "0.3")
    assert timed_out.returncode == ExitCode.TIMEOUT
    assert "still AWAITING_LISTENER after 0.3 s" in text_error(timed_out)

    control.expire_tunnel(tunnel)
    # No timeout given: a STOPPED tunnel never becomes ACTIVE, so it fails now, not never.
    never = listener.run("tunnel", "wait", tunnel, "-F", "json")
    assert json_error(never)["exit_status"] == ExitCode.BAD_INPUT
    assert "will not become ACTIVE" in json_error(never)["message"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_up_makes_a_working_tunnel_in_one_command(initiator, sim_env):
    port = free_port()
    up = initiator.ok(
        "up", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
        "--listener-contact-string", f"127.0.0.1:{port}", "--lifetime-mins", "10",
    )  # fmt: skip
    contact = up.stdout.strip()
    assert up.stdout.count("\n") == 1 and contact.startswith("globus.")
    tunnel, _, fake_port = contact.removeprefix("globus.").rpartition(":")
    listener_dir = initiator.conf_dir / "listener"
    assert TunnelConf.load(tunnel, listener_dir).role == "listener"
    assert TunnelConf.load(tunnel, initiator.conf_dir).role == "initiator"

    server = subprocess.Popen(
        [LAUNCHER, tunnel, "nc", "-l", "127.0.0.1", str(port)],
        env=initiator.env(GLOBUS_STREAMS_DIR=str(listener_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_listening(port, server)  # from the socket tables: nc -l accepts only once
        client = subprocess.run(
            [LAUNCHER, tunnel, "nc", "-N", f"globus.{tunnel}", fake_port],
            env=initiator.env(), input=b"through the tunnel\n", capture_output=True, timeout=60,
        )  # fmt: skip
        assert client.returncode == 0, client.stderr
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate(timeout=10)
    assert out == b"through the tunnel\n", err


def test_up_in_json_prints_every_id(initiator, sim_env, tmp_path):
    listener_dir = tmp_path / "elsewhere"
    data = json_out(
        initiator.run(
            "up", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
            "--listener-contact-string", "127.0.0.1:9", "--listener-dir", str(listener_dir),
            "--globus-contact", "myhost.example:443", "-F", "json",
        )
    )  # fmt: skip
    tid = data["tunnel_id"]
    assert data["state"] == "ACTIVE"
    assert data["initiator_access_point_id"] == sim_env["ORBIT_SIM_INITIATOR_AP"]
    assert data["listener_access_point_id"] == sim_env["ORBIT_SIM_LISTENER_AP"]
    for side in ("initiator", "listener"):
        assert data[side]["tunnel_id"] == tid and data[side]["role"] == side
        assert data[side]["endpoint_id"] and data[side]["lankey_id"]
    assert data["listener"]["conf_file"] == str(listener_dir / f"{tid}.conf")
    assert data["initiator"]["globus_contact"] == ["myhost.example:443"]
    assert data["connector_contact_string"] == data["initiator"]["connector_contact_string"]
    selected = initiator.ok(
        "up", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
        "--listener-contact-string", "127.0.0.1:9", "--listener-dir", str(listener_dir),
        "--jmespath", "[tunnel_id, state]",
    )  # fmt: skip
    assert json.loads(selected.stdout)[1] == "ACTIVE"


def test_up_that_fails_midway_leaves_no_tunnel_and_no_conf(initiator, sim_env, control):
    control.add_fault("http:route=create_lan_secret,status=403,count=0")
    failed = initiator.run(
        "up", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
        "--listener-contact-string", "127.0.0.1:9", "--label", "half-made",
    )  # fmt: skip
    assert failed.returncode == ExitCode.NOT_FOUND
    assert "stopped again" in text_error(failed)
    control.clear_faults()
    listed = json_out(initiator.run("tunnel", "list", "-F", "json"))
    half_made = [d for d in listed if d["attributes"]["label"] == "half-made"]
    assert [d["attributes"]["state"] for d in half_made] in (["STOPPING"], ["STOPPED"])
    confs = list(initiator.conf_dir.rglob("*.conf")) if initiator.conf_dir.exists() else []
    assert confs == []


def test_up_checks_its_input_before_creating_anything(initiator, sim_env):
    before = json_out(initiator.run("tunnel", "list", "-F", "json"))
    bad = initiator.run(
        "up", sim_env["ORBIT_SIM_INITIATOR_AP"], sim_env["ORBIT_SIM_LISTENER_AP"],
        "--listener-contact-string", "127.0.0.1",
    )  # fmt: skip
    assert bad.returncode == ExitCode.BAD_INPUT and "HOST:PORT" in text_error(bad)
    assert json_out(initiator.run("tunnel", "list", "-F", "json")) == before


def initialized_pair(listener, initiator) -> str:
    tunnel = create_tunnel(listener, "--lifetime-mins", "20")
    listener.ok("environment", "initialize", tunnel, "--listener-contact-string", "127.0.0.1:9")
    initiator.ok("environment", "initialize", tunnel)
    return tunnel


def test_contact_lookup_on_a_stopped_tunnel_says_it_is_over(listener, initiator, control):
    tunnel = initialized_pair(listener, initiator)
    control.stop_tunnel(tunnel)
    control.advance(5)
    line = text_error(initiator.run("environment", "contact-lookup", tunnel, "--refresh"))
    assert f"tunnel {tunnel} is STOPPED" in line and "create a new tunnel" in line
    assert "yet" not in line


def test_contact_lookup_on_a_deleted_tunnel_is_not_found(listener, initiator, control):
    tunnel = initialized_pair(listener, initiator)
    control.expire_tunnel(tunnel)
    listener.ok("tunnel", "delete", tunnel)
    result = initiator.run("environment", "contact-lookup", tunnel, "--refresh")
    assert result.returncode == ExitCode.NOT_FOUND
    assert "yet" not in text_error(result)


def test_cleanup_asks_transfer_about_tunnels_that_have_not_expired(listener, initiator, control):
    # Initiator-side confs alone (AWAITING_LISTENER tunnels) are enough for cleanup.
    deleted, stopped, live = (create_tunnel(listener, "--lifetime-mins", "20") for _ in range(3))
    for tunnel in (deleted, stopped, live):
        initiator.ok("environment", "initialize", tunnel)
    control.expire_tunnel(deleted)
    listener.ok("tunnel", "delete", deleted)
    listener.ok("tunnel", "stop", stopped)

    report = json_out(initiator.run("environment", "cleanup", "--all", "-F", "json"))
    assert sorted(report["removed"]) == sorted([deleted, stopped])
    assert report["reasons"][deleted] == "deleted at Transfer"
    assert report["reasons"][stopped] in ("STOPPING at Transfer", "STOPPED at Transfer")
    assert report["kept"] == [live] and report["warnings"] == []
    assert stopped in report["secrets_deleted"]  # a deleted tunnel's secrets went with it
    assert [p.stem for p in initiator.conf_dir.glob("*.conf")] == [live]


def test_cleanup_without_transfer_keeps_live_confs_and_says_why(listener, initiator):
    tunnel = initialized_pair(listener, initiator)
    env = initiator.env(GLOBUS_SDK_SERVICE_URL_TRANSFER="http://127.0.0.1:9/transfer/")
    result = initiator.run("environment", "cleanup", "--all", env=env)
    assert result.returncode == 0
    assert f"kept {tunnel} (not expired, not stopped; --force removes it)" in result.stdout
    assert "could not ask Transfer" in result.stderr
