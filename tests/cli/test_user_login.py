"""The native-app (UserApp) path: stored tokens, silent refresh, clear 'not logged in'.

The simulator has no browser consent page, so the tokens an interactive login would store
are minted by the simulator for its default user and native app and put in the CLI's own
token storage.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import pytest
from globus_sdk.token_storage import TokenStorageData

import orbit_sim
from orbit_globus.login import make_app
from orbit_globus.streams.errors import ExitCode

TRANSFER_SCOPE = "urn:globus:auth:scope:transfer.api.globus.org:all"


@pytest.fixture
def user_sim(isolated_env, monkeypatch) -> Iterator[orbit_sim.Simulator]:
    with orbit_sim.mock_globus() as simulator:
        monkeypatch.setenv("GLOBUS_STREAMS_NATIVE_CLIENT_ID", simulator.world.native_client_id)
        yield simulator


def store_login(sim: orbit_sim.Simulator, *extra_scopes: str) -> str:
    """Mint tokens as a login would and store them where the CLI keeps them; the path."""
    world = sim.world
    doc = sim.auth.issue_tokens(
        world.user_id,
        world.native_client_id,
        " ".join([TRANSFER_SCOPE, "openid", "profile", "email", *extra_scopes]),
        refresh_tokens=True,
    )
    app = make_app()
    storage = app.token_storage.token_storage
    storage.store_token_data_by_resource_server(
        {
            d["resource_server"]: TokenStorageData(
                resource_server=d["resource_server"],
                identity_id=world.user_id,
                scope=d["scope"],
                access_token=d["access_token"],
                refresh_token=d.get("refresh_token"),
                expires_at_seconds=int(sim.clock.now() + d["expires_in"]),
                token_type="Bearer",
            )
            for d in [doc, *doc["other_tokens"]]
        }
    )
    path = storage.filepath
    app.close()
    return path


def test_without_a_login_the_cli_says_how_to_log_in(user_sim, run):
    result = run("tunnel", "list")
    assert result.exit_code == ExitCode.LOGIN and result.exception is None
    assert result.stderr.endswith("run: globus-streams login\n")
    assert result.stderr.count("\n") == 1


def test_without_any_credentials_the_cli_names_the_variables(isolated_env, run):
    result = run("tunnel", "list")
    assert result.exit_code == ExitCode.LOGIN
    assert "GLOBUS_STREAMS_CLIENT_ID" in result.stderr
    assert "GLOBUS_STREAMS_NATIVE_CLIENT_ID" in result.stderr


def test_stored_login_is_used_and_refreshed_silently(user_sim, run):
    path = store_login(user_sim)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    run.ok("tunnel", "list")

    assert user_sim.expire_tokens() >= 1  # the service now refuses the stored access token
    refreshed = run.ok("tunnel", "list")
    assert refreshed.stderr == ""

    user_sim.advance(3 * 3600)  # the stored expiry has passed too
    assert run.ok("tunnel", "list").stderr == ""

    who = run.ok("whoami")
    assert "user@orbit-sim.example" in who.stdout


def test_logout_forgets_the_tokens(user_sim, run):
    store_login(user_sim)
    run.ok("logout")
    result = run("tunnel", "list")
    assert result.exit_code == ExitCode.LOGIN and "globus-streams login" in result.stderr


def test_gcs_consent_is_asked_only_when_needed(user_sim, run, tmp_path):
    store_login(user_sim)
    world = user_sim.world
    tunnel = run.ok("tunnel", "create", world.initiator_ap_id, world.listener_ap_id).stdout.strip()
    endpoint = user_sim.transfer.get_access_point(world.listener_ap_id).host_endpoint_id
    base = ["--base-dir", str(tmp_path / "streams"), "environment", "initialize"]
    args = [*base, "--listener-contact-string", "127.0.0.1:9", tunnel]
    missing = run(*args)
    assert missing.exit_code == ExitCode.LOGIN
    assert missing.stderr.endswith(f"run: globus-streams login --gcs {endpoint}\n")
    assert user_sim.transfer.get_tunnel(tunnel).listener_port is None  # nothing changed

    store_login(user_sim, f"urn:globus:auth:scope:{endpoint}:manage_collections")
    run.ok(*args)
    assert user_sim.gcs.lan_secret_for(tunnel, world.listener_ap_id) is not None
