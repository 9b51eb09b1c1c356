"""The CLI and the launcher as real processes against `orbit-sim serve` (separate HOMEs)."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    ServerHandshake,
    Status,
    client_handshake,
    lookup_for,
    server_handshake,
)
from orbit_globus.streams import launch
from orbit_globus.streams.conf import TunnelConf
from orbit_sim.control import SimControl
from orbit_sim.control.client import SimControlError

from .served.checks import services_down_env, text_error
from .server import GLOBUS_STREAMS, LAUNCHER, Host, control_client, virtual_clock_server

sim_env = pytest.fixture(scope="module", name="sim_env")(virtual_clock_server)
control = pytest.fixture(name="control")(control_client)


def make_host(tmp_path: Path, name: str, sim_env: dict[str, str]) -> Host:
    home = tmp_path / name
    home.mkdir()
    return Host(home, sim_env)


@pytest.fixture
def listener(tmp_path, sim_env) -> Host:
    return make_host(tmp_path, "listener-home", sim_env)


@pytest.fixture
def initiator(tmp_path, sim_env) -> Host:
    return make_host(tmp_path, "initiator-home", sim_env)


def create_tunnel(host: Host, *extra: str) -> str:
    env = host.sim_env
    result = host.ok(
        "tunnel", "create", env["ORBIT_SIM_INITIATOR_AP"], env["ORBIT_SIM_LISTENER_AP"], *extra
    )
    return str(uuid.UUID(result.stdout.strip()))


@pytest.fixture
def tunnel(listener: Host) -> str:
    return create_tunnel(listener, "--lifetime-mins", "20", "--restartable")


def endpoint_hosting(control: SimControl, access_point_id: str) -> str:
    for endpoint in control.state()["world"]["endpoints"]:
        if access_point_id in endpoint["access_points"]:
            return endpoint["id"]
    raise AssertionError(f"no endpoint hosts {access_point_id}")


def secret_exists(control: SimControl, secret_id: str) -> bool:
    """Whether the simulator still holds the secret (revoking an old one changes nothing)."""
    try:
        control.revoke_secret(secret_id)
    except SimControlError as err:
        if " 404 " in str(err):
            return False
        raise
    return True


def serve_once(server: socket.socket, credential: Credential, tunnel_id: str) -> threading.Thread:
    """A listening application: authenticate one connection, echo what it sends."""
    server.settimeout(20)

    def handle() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            status = server_handshake(conn, ServerHandshake(lookup_for(tunnel_id, credential)))
            if status == Status.OK:
                conn.sendall(b"echo:" + conn.recv(100))

    thread = threading.Thread(target=handle, daemon=True)
    thread.start()
    return thread


# -- initialize on both sides --------------------------------------------------------------


@pytest.fixture
def app_server() -> Iterator[socket.socket]:
    """The listening application's socket (closed even when the test fails)."""
    server = socket.create_server(("127.0.0.1", 0))
    try:
        yield server
    finally:
        server.close()


def test_both_sides_initialize_and_their_secrets_open_the_tunnel(
    listener, initiator, tunnel, control, sim_env, app_server
):
    # The listening application (in this test) authenticates the listener access point
    # with the listener side's secret, the connecting one with the initiator side's.
    port = app_server.getsockname()[1]
    before = time.time()
    listener.ok("environment", "initialize", "--listener-contact-string", f"127.0.0.1:{port}",
                tunnel)  # fmt: skip
    after = time.time()
    out = initiator.ok(
        "environment", "initialize", "--globus-contact", "myhost.example:443", tunnel
    ).stdout

    lconf = TunnelConf.load(tunnel, listener.conf_dir)
    iconf = TunnelConf.load(tunnel, initiator.conf_dir)
    for host in (listener, initiator):
        assert stat.S_IMODE(host.conf_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((host.conf_dir / f"{tunnel}.conf").stat().st_mode) == 0o600
        assert not [p for p in host.conf_dir.iterdir() if p.name.endswith(".tmp")]
    assert f"Your contact string is: globus.{tunnel}:{iconf.fake_port}\n" in out
    assert lconf.role == "listener" and iconf.role == "initiator"
    assert lconf.endpoint_id == endpoint_hosting(control, sim_env["ORBIT_SIM_LISTENER_AP"])
    assert iconf.endpoint_id == endpoint_hosting(control, sim_env["ORBIT_SIM_INITIATOR_AP"])
    assert iconf.globus_contacts == ["myhost.example:443"]
    assert int(before) + 20 * 60 <= lconf.tunnel_expiration_time <= int(after) + 20 * 60
    shown = json.loads(listener.ok("--format", "json", "tunnel", "show", tunnel).stdout)
    assert shown["attributes"]["listener_port"] == port
    assert shown["attributes"]["state"] == "ACTIVE"

    listener_credential = Credential(lconf.lankey, uuid.UUID(lconf.lankey_id))
    thread = serve_once(app_server, listener_credential, tunnel)
    try:
        host, _, initiator_port = iconf.connector_contact_string.rpartition(":")
        with socket.create_connection((host, int(initiator_port)), timeout=20) as conn:
            client_handshake(
                conn,
                ClientHandshake(tunnel_id=tunnel, secret=iconf.lankey, secret_id=iconf.lankey_id),
            )
            conn.sendall(b"hello")
            conn.settimeout(20)
            assert conn.recv(100) == b"echo:hello"
    finally:
        app_server.close()
        thread.join(timeout=20)


def test_force_rotates_and_revokes_the_old_secret(listener, tunnel, control):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    old = TunnelConf.load(tunnel, listener.conf_dir)
    refused = listener.run("environment", "initialize", "--listener", tunnel)
    assert "--force" in text_error(refused)
    listener.ok("environment", "initialize", "--listener", "--force", tunnel)
    new = TunnelConf.load(tunnel, listener.conf_dir)
    assert new.lankey_id != old.lankey_id and new.lankey != old.lankey
    assert not secret_exists(control, old.lankey_id)  # deleted on the GCS first


# -- contact-lookup ---------------------------------------------------------------------------


def test_contact_lookup_follows_a_restart_after_the_ttl(listener, initiator, tunnel, control):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    initiator.ok("environment", "initialize", "--cs-ttl", "300", tunnel)
    first = initiator.ok("environment", "contact-lookup", tunnel).stdout
    ip, _, port = first.strip().rpartition(":")
    assert ip == "127.0.0.1" and port.isdigit() and first.endswith("\n")

    control.restart_tunnel(tunnel)
    assert initiator.ok("environment", "contact-lookup", tunnel).stdout == first  # within TTL
    conf = TunnelConf.load(tunnel, initiator.conf_dir)
    conf.set(update_time=int(time.time()) - 301)
    conf.save()
    second = initiator.ok("environment", "contact-lookup", tunnel).stdout
    shown = json.loads(initiator.ok("--format", "json", "tunnel", "show", tunnel).stdout)
    assert second == f"127.0.0.1:{shown['attributes']['initiator_port']}\n" != first


def test_contact_lookup_refresh_ignores_the_ttl(listener, initiator, tunnel, control):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    initiator.ok("environment", "initialize", "--cs-ttl", "300", tunnel)
    first = initiator.ok("environment", "contact-lookup", tunnel).stdout

    control.restart_tunnel(tunnel)  # the access point moves; the conf's contact is still fresh
    assert initiator.ok("environment", "contact-lookup", tunnel).stdout == first
    before = int(time.time())
    refreshed = initiator.ok("environment", "contact-lookup", tunnel, "--refresh").stdout
    shown = json.loads(initiator.ok("--format", "json", "tunnel", "show", tunnel).stdout)
    assert refreshed == f"127.0.0.1:{shown['attributes']['initiator_port']}\n" != first
    conf = TunnelConf.load(tunnel, initiator.conf_dir)  # rewritten for the next lookups
    assert conf.connector_contact_string == refreshed.strip()
    assert conf.update_time is not None and conf.update_time >= before
    nowhere = initiator.env(GLOBUS_SDK_SERVICE_URL_TRANSFER="http://127.0.0.1:9/transfer/")
    assert initiator.ok("environment", "contact-lookup", tunnel, env=nowhere).stdout == refreshed

    both = initiator.run("environment", "contact-lookup", "--refresh", "--skip-update", tunnel)
    assert "--refresh and --skip-update" in text_error(both)


def test_skip_update_and_fresh_conf_make_no_network_call(listener, initiator, tunnel):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    initiator.ok("environment", "initialize", "--cs-ttl", "0", tunnel)
    stored = TunnelConf.load(tunnel, initiator.conf_dir).connector_contact_string
    nowhere = initiator.env(
        GLOBUS_SDK_SERVICE_URL_TRANSFER="http://127.0.0.1:9/transfer/",
        GLOBUS_SDK_SERVICE_URL_AUTH="http://127.0.0.1:9/auth/",
    )
    skipped = initiator.ok("environment", "contact-lookup", "--skip-update", tunnel, env=nowhere)
    assert skipped.stdout == f"{stored}\n" and skipped.stderr == ""
    conf = TunnelConf.load(tunnel, initiator.conf_dir)
    conf.set(connector_contact_string_ttl=3600)
    conf.save()
    fresh = initiator.ok("environment", "contact-lookup", tunnel, env=nowhere)
    assert fresh.stdout == f"{stored}\n"


# -- update, cleanup, show --------------------------------------------------------------------


def test_update_cleanup_and_show(listener, tunnel, control):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    listener.ok("environment", "update", tunnel, "--listener-contact-string", "127.0.0.1:10")
    shown = json.loads(listener.ok("--format", "json", "tunnel", "show", tunnel).stdout)
    assert shown["attributes"]["listener_port"] == 10

    conf = TunnelConf.load(tunnel, listener.conf_dir)
    text = listener.ok("environment", "show", tunnel).stdout
    assert conf.lankey not in text and "lankey=********" in text
    assert "listener_contact_string=127.0.0.1:10" in text

    kept = json.loads(listener.ok("--format", "json", "environment", "cleanup", "--all").stdout)
    assert kept["kept"] == [tunnel] and kept["removed"] == []
    removed = json.loads(
        listener.ok("--format", "json", "environment", "cleanup", tunnel, "--force").stdout
    )
    assert removed["removed"] == [tunnel] and removed["secrets_deleted"] == [tunnel]
    assert not secret_exists(control, conf.lankey_id)
    assert not (listener.conf_dir / f"{tunnel}.conf").exists()


# -- tunnel and access-point commands ---------------------------------------------------------


def test_tunnel_commands_text_and_json(listener, control, sim_env):
    created = json.loads(
        listener.ok(
            "--format", "json", "tunnel", "create", sim_env["ORBIT_SIM_INITIATOR_AP"],
            sim_env["ORBIT_SIM_LISTENER_AP"], "--label", "cli test", "--lifetime-mins", "9",
        ).stdout
    )  # fmt: skip
    tid = created["id"]
    assert created["attributes"]["label"] == "cli test"
    assert created["attributes"]["lifetime_mins"] == 9

    listed_text = listener.ok("tunnel", "list").stdout
    assert tid in listed_text and "cli test" in listed_text
    listed = json.loads(listener.ok("--format", "json", "tunnel", "list").stdout)
    assert tid in [doc["id"] for doc in listed]

    shown = listener.ok("tunnel", "show", tid).stdout
    assert "AWAITING_LISTENER" in shown and "cli test" in shown

    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tid)
    events = json.loads(listener.ok("--format", "json", "tunnel", "events", tid).stdout)
    assert [e["attributes"]["code"] for e in events][:2] == ["STARTED", "TUNNEL_ACTIVE"]
    assert "TUNNEL_ACTIVE" in listener.ok("tunnel", "events", tid).stdout

    assert "stopping" in listener.ok("tunnel", "stop", tid).stdout
    control.advance(5)  # STOPPING becomes STOPPED on the simulator's clock
    deleted = json.loads(listener.ok("--format", "json", "tunnel", "delete", tid).stdout)
    assert deleted == {"id": tid, "deleted": True}
    assert "not found" in text_error(listener.run("tunnel", "show", tid))


def test_access_point_commands(listener, sim_env):
    initiator_ap = sim_env["ORBIT_SIM_INITIATOR_AP"]
    text = listener.ok("access-point", "list").stdout
    assert initiator_ap in text and sim_env["ORBIT_SIM_LISTENER_AP"] in text
    docs = json.loads(
        listener.ok("--format", "json", "access-point", "list", "--filter", "INITIATOR").stdout
    )
    assert [d["id"] for d in docs] == [initiator_ap]
    shown = json.loads(listener.ok("--format", "json", "access-point", "show", initiator_ap).stdout)
    assert shown["relationships"]["host_endpoint"]["data"]["id"]
    assert "Host endpoint" in listener.ok("access-point", "show", initiator_ap).stdout
    missing = listener.run("access-point", "show", str(uuid.uuid4()))
    assert "not found" in text_error(missing)


def test_login_whoami_logout_with_client_credentials(listener, sim_env):
    listener.ok("login")
    who = json.loads(listener.ok("--format", "json", "whoami").stdout)
    assert who["id"] == sim_env["GLOBUS_STREAMS_CLIENT_ID"]
    tokens = list((listener.home / ".globus").rglob("tokens.json"))
    assert tokens and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tokens)
    assert all(stat.S_IMODE(p.parent.stat().st_mode) == 0o700 for p in tokens)
    listener.ok("logout")


# -- failures: one line, non-zero, no traceback -----------------------------------------------


def test_not_initialized(initiator, tunnel):
    line = text_error(initiator.run("environment", "contact-lookup", tunnel))
    assert f"globus-streams environment initialize {tunnel}" in line


def test_unknown_tunnel(listener):
    line = text_error(listener.run("environment", "initialize", "--listener", str(uuid.uuid4())))
    assert "not found" in line


def test_another_identitys_tunnel(listener, initiator, tunnel, control):
    other = control.create_client("someone else")
    env = initiator.env(
        GLOBUS_STREAMS_CLIENT_ID=other["client_id"],
        GLOBUS_STREAMS_CLIENT_SECRET=other["client_secret"],
    )
    line = text_error(initiator.run("environment", "initialize", tunnel, env=env))
    assert "not found" in line or "another identity" in line
    assert "not found" in text_error(initiator.run("tunnel", "show", tunnel, env=env))


def test_expired_token_is_renewed_silently(listener, tunnel, control):
    listener.ok("tunnel", "show", tunnel)  # stores a token under HOME
    assert control.expire_tokens() >= 1
    renewed = listener.ok("tunnel", "show", tunnel)
    assert renewed.stderr == ""


def test_transfer_503_is_retried(listener, tunnel, control):
    control.add_fault("http:route=get_tunnel,status=503,count=2")
    result = listener.ok("tunnel", "show", tunnel)
    assert tunnel in result.stdout and result.stderr == ""


def test_transfer_503_that_persists_is_one_line(listener, tunnel, control):
    control.add_fault("http:route=get_tunnel,status=503,count=0")
    line = text_error(listener.run("tunnel", "show", tunnel))
    assert "503" in line and "Transfer" in line


def test_simulator_down(listener, tunnel):
    env, dead = services_down_env(listener)
    line = text_error(listener.run("tunnel", "show", tunnel, env=env))
    assert "cannot reach" in line and dead in line


def test_conf_readable_by_others(listener, initiator, tunnel):
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    initiator.ok("environment", "initialize", tunnel)
    path = initiator.conf_dir / f"{tunnel}.conf"
    path.chmod(0o604)
    line = text_error(initiator.run("environment", "contact-lookup", tunnel))
    assert "0604" in line and "chmod 600" in line


def test_missing_credentials(listener, tunnel):
    env = listener.env()
    del env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]
    line = text_error(listener.run("tunnel", "show", tunnel, env=env))
    assert "GLOBUS_STREAMS_CLIENT_ID" in line


# -- the installed launcher against initialized sides -----------------------------------------


def launch_env(host: Host, *args: str) -> dict[str, str]:
    result = subprocess.run(
        [LAUNCHER, *args, "env"], env=host.env(LD_PRELOAD=""), capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(line.partition("=")[::2] for line in result.stdout.splitlines() if "=" in line)


def test_launcher_with_initialized_sides(listener, initiator, tunnel):
    from orbit_globus.streams.launcher import library_path

    try:
        library = str(library_path())
    except Exception:
        pytest.skip("the intercept library is not built")
    listener.ok("environment", "initialize", "--listener-contact-string", "127.0.0.1:8765", tunnel)
    initiator.ok("environment", "initialize", tunnel)
    lenv = launch_env(listener, tunnel)
    assert lenv["GLOBUS_STREAMS_INTERCEPT_PORT_8765"] == tunnel
    assert lenv["GLOBUS_STREAMS_DIR"] == str(listener.conf_dir)
    assert Path(lenv["LD_PRELOAD"]).resolve() == Path(library).resolve()
    ienv = launch_env(initiator, "-d", tunnel)
    assert ienv["GLOBUS_STREAMS_TUNNELS"] == tunnel and ienv["GLOBUS_STREAMS_DEBUG"] == "1"
    assert not [k for k in ienv if k.startswith("GLOBUS_STREAMS_INTERCEPT_PORT_")]
    # The CLI the library will run for a refresh answers with the contact.
    lookup = subprocess.run(
        [ienv["GLOBUS_STREAMS_CLI"], "environment", "contact-lookup", tunnel],
        env=initiator.env(), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert (
        lookup.stdout.strip()
        == TunnelConf.load(tunnel, initiator.conf_dir).connector_contact_string
    )


# -- interactive native-app login (the simulator consents at once) ---------------------------


def test_interactive_login_then_commands_use_the_stored_tokens(listener, control):
    import requests

    native_client = control.state()["world"]["native_client_id"]
    env = listener.env(GLOBUS_STREAMS_NATIVE_CLIENT_ID=native_client)
    del env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]
    process = subprocess.Popen(
        [GLOBUS_STREAMS, "login"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = None
        for line in process.stdout:
            if line.startswith("http"):
                url = line.strip()
                break
        assert url and "/v2/oauth2/authorize?" in url
        page = requests.get(url, verify=env["GLOBUS_SDK_VERIFY_SSL"], timeout=10)
        code = page.text.split()[-1]
        out, err = process.communicate(code + "\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0, err
    assert "logged in (user login)" in out
    tokens = list((listener.home / ".globus").rglob("tokens.json"))
    assert tokens and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tokens)
    listed = subprocess.run(
        [GLOBUS_STREAMS, "tunnel", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0 and listed.stderr == ""
    who = subprocess.run(
        [GLOBUS_STREAMS, "whoami"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "user@orbit-sim.example" in who.stdout


# -- the whole path: launcher + intercept library + CLI refresh ------------------------------

LISTENING_APP = """
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
data = conn.recv(100)
conn.sendall(b"echo:" + data)
conn.close()
"""

CONNECTING_APP = """
import socket, sys
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
conn.sendall(b"hello")
print(conn.recv(100).decode(), flush=True)
"""


def test_launched_applications_talk_through_the_tunnel(listener, initiator, tunnel, tmp_path):
    from orbit_globus.streams.launcher import library_path

    try:
        library_path()
    except Exception:
        pytest.skip("the intercept library is not built")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener.ok("environment", "initialize", "--listener-contact-string", f"127.0.0.1:{port}",
                tunnel)  # fmt: skip
    initiator.ok("environment", "initialize", tunnel)
    iconf = TunnelConf.load(tunnel, initiator.conf_dir)
    real_contact = iconf.connector_contact_string
    # A stale, wrong contact: only a refresh through `globus-streams environment
    # contact-lookup` (run by the library) can get this connection through.
    iconf.set(connector_contact_string="127.0.0.1:1", update_time=int(time.time()) - 120)
    iconf.save()
    debug_log = tmp_path / "initiator-debug.log"

    # The listener side through launch(), the Python twin of the launcher script.
    server = launch(
        tunnel, [sys.executable, "-c", LISTENING_APP, str(port)], env=listener.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout.readline().strip() == "ready"
        client = subprocess.run(
            [LAUNCHER, "-l", str(debug_log), tunnel, sys.executable, "-c", CONNECTING_APP,
             f"globus.{tunnel}", str(iconf.fake_port)],
            env=initiator.env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert client.returncode == 0, client.stderr
        assert client.stdout.strip() == "echo:hello"
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=10)
        server.stdout.close()
        server.stderr.close()
    assert TunnelConf.load(tunnel, initiator.conf_dir).connector_contact_string == real_contact
    log_text = debug_log.read_text() if debug_log.exists() else ""
    assert iconf.lankey not in log_text


def test_untrusted_gcs_certificate_is_one_line(listener, tunnel):
    env = listener.env()
    del env["GLOBUS_SDK_VERIFY_SSL"]  # the GCS Manager's trustme CA is then unknown
    args = ("environment", "initialize", "--listener-contact-string", "127.0.0.1:9", tunnel)
    line = text_error(listener.run(*args, env=env))
    assert "GLOBUS_SDK_VERIFY_SSL" in line
    assert not (listener.conf_dir / f"{tunnel}.conf").exists()
    listener.ok(*args)  # with the CA, the same command then succeeds
