"""`globus-streams environment ...` against the in-process simulator."""

from __future__ import annotations

import json
import stat
import time

import pytest

from orbit_globus.streams import environment as env_ops
from orbit_globus.streams import remote
from orbit_globus.streams.conf import MASK

from .conftest import create_tunnel, endpoint_of

LISTENER_CONTACT = "127.0.0.1:8888"


def init_listener(run, listener, tunnel, *extra):
    return run.ok(
        "environment",
        "initialize",
        "--listener-contact-string",
        LISTENER_CONTACT,
        tunnel,
        *extra,
        side=listener,
    )


def init_initiator(run, initiator, tunnel, *extra):
    return run.ok("environment", "initialize", tunnel, *extra, side=initiator)


def sim_tunnel(sim, tunnel_id):
    return sim.transfer.get_tunnel(tunnel_id)


def test_listener_initialize_records_contact_and_fetches_secret(sim, run, listener, tunnel):
    before = time.time()
    result = init_listener(run, listener, tunnel)
    after = time.time()
    assert f"The environment is initialized for use with tunnel {tunnel}" in result.stdout

    state = sim_tunnel(sim, tunnel)
    assert (state.listener_ip_address, state.listener_port) == ("127.0.0.1", 8888)
    assert state.state == "ACTIVE"

    conf = listener.conf(tunnel)
    credential = sim.gcs.lan_secret_for(tunnel, sim.world.listener_ap_id)
    assert conf.role == "listener"
    assert conf.lankey == credential.secret and conf.lankey_id == str(credential.secret_id)
    assert conf.endpoint_id == endpoint_of(sim, sim.world.listener_ap_id)
    assert conf.listener_contact_string == LISTENER_CONTACT
    assert int(before) + 30 * 60 <= conf.tunnel_expiration_time <= int(after) + 30 * 60
    assert stat.S_IMODE(conf.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(listener.conf_dir.stat().st_mode) == 0o700
    assert credential.secret not in result.stdout + result.stderr


def test_initiator_initialize_prints_contact_string(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    result = init_initiator(
        run, initiator, tunnel, "--globus-contact", "myhost.com:443", "--globus-contact", "b:1"
    )
    conf = initiator.conf(tunnel)
    assert f"Your contact string is: globus.{tunnel}:{conf.fake_port}" in result.stdout
    state = sim_tunnel(sim, tunnel)
    assert conf.connector_contact_string == f"127.0.0.1:{state.initiator_port}"
    assert conf.globus_contacts == ["myhost.com:443", "b:1"]
    assert conf.contact_ttl == env_ops.DEFAULT_CS_TTL
    credential = sim.gcs.lan_secret_for(tunnel, sim.world.initiator_ap_id)
    assert conf.lankey == credential.secret
    assert conf.endpoint_id == endpoint_of(sim, sim.world.initiator_ap_id)
    # each side has its own secret from its own GCS
    assert conf.lankey != listener.conf(tunnel).lankey


def test_initiator_before_listener_writes_no_fake_contact(sim, run, listener, initiator, tunnel):
    result = init_initiator(run, initiator, tunnel)
    conf = initiator.conf(tunnel)
    assert conf.connector_contact_string is None and conf.update_time is None
    assert "None" not in conf.path.read_text()
    assert "AWAITING_LISTENER" in result.stderr
    init_listener(run, listener, tunnel)
    lookup = run.ok("environment", "contact-lookup", tunnel, side=initiator)
    assert lookup.stdout.strip() == f"127.0.0.1:{sim_tunnel(sim, tunnel).initiator_port}"


def test_contact_lookup_waits_then_fails_for_an_inactive_tunnel(
    sim, run, initiator, tunnel, monkeypatch
):
    monkeypatch.setattr(remote, "ACTIVE_WAIT_SECONDS", 0.3)
    init_initiator(run, initiator, tunnel)
    result = run("environment", "contact-lookup", tunnel, side=initiator)
    assert result.exit_code != 0 and result.stdout == ""
    assert "AWAITING_LISTENER" in result.stderr and result.stderr.count("\n") == 1


def test_explicit_endpoint_id(sim, run, listener, tunnel):
    endpoint = endpoint_of(sim, sim.world.listener_ap_id)
    init_listener(run, listener, tunnel, endpoint)
    assert listener.conf(tunnel).endpoint_id == endpoint


def test_wrong_endpoint_id_is_one_line(sim, run, listener, tunnel):
    wrong = endpoint_of(sim, sim.world.initiator_ap_id)
    result = run(
        "environment", "initialize", "--listener-contact-string", LISTENER_CONTACT, tunnel,
        wrong, side=listener,
    )  # fmt: skip
    assert result.exit_code != 0 and result.exception is None
    assert result.stderr.startswith("globus-streams: error: GCS Manager")
    assert result.stderr.count("\n") == 1


def test_existing_conf_needs_force_and_force_rotates(sim, run, listener, tunnel):
    init_listener(run, listener, tunnel)
    old = listener.conf(tunnel)
    again = run("environment", "initialize", "--listener", tunnel, side=listener)
    assert again.exit_code != 0 and "--force" in again.stderr
    assert listener.conf(tunnel).lankey_id == old.lankey_id

    init_listener(run, listener, tunnel, "--force")
    new = listener.conf(tunnel)
    assert new.lankey_id != old.lankey_id and new.lankey != old.lankey
    assert old.lankey_id not in sim.gcs.lan_secrets  # deleted on the GCS first
    credential = sim.gcs.lan_secret_for(tunnel, sim.world.listener_ap_id)
    assert str(credential.secret_id) == new.lankey_id


def test_force_keeps_fake_port_and_unknown_keys(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    init_initiator(run, initiator, tunnel)
    conf = initiator.conf(tunnel)
    conf.set(future_key="a=b")
    conf.save()
    init_initiator(run, initiator, tunnel, "--force")
    again = initiator.conf(tunnel)
    assert again.fake_port == conf.fake_port and again.get("future_key") == "a=b"


def test_listener_flag_uses_the_contact_on_the_tunnel(sim, run, listener, tunnel):
    missing = run("environment", "initialize", "--listener", tunnel, side=listener)
    assert missing.exit_code != 0 and "--listener-contact-string" in missing.stderr
    sim.transfer.set_listener_contact(sim_tunnel(sim, tunnel), "10.0.0.5", 9000)
    run.ok("environment", "initialize", "--listener", tunnel, side=listener)
    assert listener.conf(tunnel).listener_contact_string == "10.0.0.5:9000"


def test_secret_with_equals_round_trips(sim, run, listener, tunnel, monkeypatch):
    import orbit_sim.services.gcs.models as gcs_models

    monkeypatch.setattr(gcs_models.secrets, "token_urlsafe", lambda n=32: "k3y==with=equals=")
    init_listener(run, listener, tunnel)
    conf = listener.conf(tunnel)
    assert conf.lankey == "k3y==with=equals="
    assert "lankey=k3y==with=equals=\n" in conf.path.read_text()
    assert sim.gcs.lan_secret_for(tunnel, sim.world.listener_ap_id).secret == conf.lankey


def test_contact_lookup_fresh_conf_makes_no_call(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    init_initiator(run, initiator, tunnel)
    expected = initiator.conf(tunnel).connector_contact_string
    sim.add_fault("http:route=*,status=400,count=0")
    assert run.ok("environment", "contact-lookup", tunnel, side=initiator).stdout == (
        expected + "\n"
    )


def test_skip_update_makes_no_call_even_when_stale(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    init_initiator(run, initiator, tunnel, "--cs-ttl", "0")
    expected = initiator.conf(tunnel).connector_contact_string
    sim.add_fault("http:route=*,status=400,count=0")
    out = run.ok("environment", "contact-lookup", "--skip-update", tunnel, side=initiator)
    assert out.stdout.strip() == expected
    stale = run("environment", "contact-lookup", tunnel, side=initiator)
    assert stale.exit_code != 0  # without --skip-update it does go to Transfer


def test_contact_lookup_after_restart_and_ttl(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    init_initiator(run, initiator, tunnel, "--cs-ttl", "600")
    old = initiator.conf(tunnel).connector_contact_string
    sim.restart_tunnel(tunnel)
    new_port = sim_tunnel(sim, tunnel).initiator_port
    assert not old.endswith(f":{new_port}")
    # within the TTL the stored contact is trusted
    assert run.ok("environment", "contact-lookup", tunnel, side=initiator).stdout.strip() == old
    conf = initiator.conf(tunnel)
    conf.set(update_time=int(time.time()) - 601)
    conf.save()
    fresh = run.ok("environment", "contact-lookup", tunnel, side=initiator).stdout.strip()
    assert fresh == f"127.0.0.1:{new_port}"
    assert initiator.conf(tunnel).connector_contact_string == fresh
    assert initiator.conf(tunnel).update_time >= int(time.time()) - 5


def test_contact_lookup_on_listener_side_is_refused(sim, run, listener, tunnel):
    init_listener(run, listener, tunnel)
    result = run("environment", "contact-lookup", tunnel, side=listener)
    assert result.exit_code != 0 and "initiator side" in result.stderr


def test_update_listener_contact_and_ttl(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    run.ok(
        "environment", "update", tunnel, "--listener-contact-string", "[::1]:7777",
        side=listener,
    )  # fmt: skip
    state = sim_tunnel(sim, tunnel)
    assert (state.listener_ip_address, state.listener_port) == ("::1", 7777)
    assert listener.conf(tunnel).listener_contact_string == "[::1]:7777"

    init_initiator(run, initiator, tunnel)
    sim.restart_tunnel(tunnel)
    run.ok("environment", "update", tunnel, "--cs-ttl", "5", side=initiator)
    conf = initiator.conf(tunnel)
    assert conf.contact_ttl == 5
    assert conf.connector_contact_string.endswith(f":{sim_tunnel(sim, tunnel).initiator_port}")
    wrong_side = run(
        "environment", "update", tunnel, "--listener-contact-string", "h:1", side=initiator
    )
    assert wrong_side.exit_code != 0 and "listener side" in wrong_side.stderr


def test_show_masks_the_secret(sim, run, listener, tunnel):
    init_listener(run, listener, tunnel)
    secret = listener.conf(tunnel).lankey
    text = run.ok("environment", "show", tunnel, side=listener).stdout
    assert f"lankey={MASK}" in text and secret not in text
    assert f"listener_contact_string={LISTENER_CONTACT}" in text
    doc = json.loads(
        run.ok("--format", "json", "environment", "show", tunnel, side=listener).stdout
    )
    assert set(doc) == {"tunnel_id", "conf_file", "values"}
    assert doc["values"]["lankey"] == MASK and secret not in json.dumps(doc)


def test_initialize_json_has_stable_keys(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    doc = json.loads(
        run.ok("--format", "json", "environment", "initialize", tunnel, side=initiator).stdout
    )
    assert set(doc) == {
        "tunnel_id", "role", "conf_file", "endpoint_id", "lankey_id", "contact_string",
        "connector_contact_string", "globus_contact", "listener_contact_string",
        "tunnel_expiration_time", "tunnel_state",
    }  # fmt: skip
    assert doc["contact_string"].startswith(f"globus.{tunnel}:")
    assert initiator.conf(tunnel).lankey not in json.dumps(doc)


def expire(side, tunnel_id):
    conf = side.conf(tunnel_id)
    conf.set(tunnel_expiration_time=int(time.time()) - 1)
    conf.save()


def test_cleanup_expired_versus_force(sim, run, listener, initiator, tunnel):
    other = create_tunnel(run, sim, "--lifetime-mins", "30")
    init_listener(run, listener, tunnel)
    init_listener(run, listener, other)
    expired_secret = listener.conf(tunnel).lankey_id
    expire(listener, tunnel)

    kept = run.ok("environment", "cleanup", other, side=listener)
    assert "kept" in kept.stdout and listener.conf(other)

    doc = json.loads(
        run.ok("--format", "json", "environment", "cleanup", "--all", side=listener).stdout
    )
    assert doc["removed"] == [tunnel] and doc["kept"] == [other]
    assert doc["secrets_deleted"] == [tunnel]
    assert expired_secret not in sim.gcs.lan_secrets
    assert not (listener.conf_dir / f"{tunnel}.conf").exists()

    forced = run.ok("environment", "cleanup", "--all", "--force", side=listener)
    assert f"removed {other}" in forced.stdout
    assert list(listener.conf_dir.iterdir()) == []


def test_cleanup_needs_a_selection(sim, run, listener):
    result = run("environment", "cleanup", side=listener)
    assert result.exit_code != 0


def test_cleanup_when_gcs_is_unreachable_warns_and_removes(sim, run, listener, tunnel):
    init_listener(run, listener, tunnel)
    sim.add_fault("drop:service=gcs,route=*,count=0")  # every GCS call loses its connection
    result = run.ok("environment", "cleanup", tunnel, "--force", side=listener)
    assert "warning: could not delete the LAN secret" in result.stderr
    assert not (listener.conf_dir / f"{tunnel}.conf").exists()


@pytest.mark.parametrize("command", ["show", "contact-lookup", "update"])
def test_not_initialized_is_one_line(sim, run, initiator, tunnel, command):
    result = run("environment", command, tunnel, side=initiator)
    assert result.exit_code != 0 and result.exception is None
    assert result.stderr == (
        f"globus-streams: error: tunnel {tunnel} is not initialized here "
        f"(no {initiator.conf_dir / (tunnel + '.conf')}); "
        f"run: globus-streams environment initialize {tunnel}\n"
    )


def test_conf_readable_by_others_is_one_line(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    init_initiator(run, initiator, tunnel)
    conf = initiator.conf(tunnel)
    conf.path.chmod(0o640)
    result = run("environment", "contact-lookup", tunnel, side=initiator)
    assert result.exit_code != 0 and "0640" in result.stderr
    assert conf.lankey not in result.stderr and result.stderr.count("\n") == 1


def test_bad_listener_contact_is_one_line(sim, run, listener, tunnel):
    result = run(
        "environment", "initialize", "--listener-contact-string", "nohost", tunnel,
        side=listener,
    )  # fmt: skip
    assert result.exit_code != 0 and "HOST:PORT" in result.stderr
    assert not (listener.conf_dir / f"{tunnel}.conf").exists()


def test_verbose_output_never_shows_secrets_or_tokens(sim, run, listener, initiator, tunnel):
    init_listener(run, listener, tunnel)
    result = run.ok("-vv", "environment", "initialize", tunnel, side=initiator)
    conf = initiator.conf(tunnel)
    logged = result.stdout + result.stderr
    assert "globus_sdk" in logged  # -vv does log the SDK's requests
    assert conf.lankey not in logged and listener.conf(tunnel).lankey not in logged
    assert sim.world.client_secret not in logged
    for token in sim.auth.tokens:
        assert token not in logged
