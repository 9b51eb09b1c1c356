"""globus-cli's output conventions on every command: -F/--format and --jmespath before or
after the command name, JSON that `json.loads` reads, errors as one JSON line on stderr."""

from __future__ import annotations

import json
import uuid

import pytest

from orbit_globus import __version__
from orbit_globus.streams.errors import ExitCode

from .checks import json_error, json_out


def test_every_command_prints_json_either_side_of_its_name(listener, initiator, control):
    env = listener.sim_env
    iap, lap = env["ORBIT_SIM_INITIATOR_AP"], env["ORBIT_SIM_LISTENER_AP"]
    created = json_out(listener.run("tunnel", "create", iap, lap, "--label", "j", "-F", "json"))
    tid = created["id"]
    assert created["attributes"]["label"] == "j"
    assert tid in [d["id"] for d in json_out(listener.run("-F", "json", "tunnel", "list"))]
    assert json_out(listener.run("tunnel", "show", tid, "--format", "json"))["id"] == tid
    updated = json_out(listener.run("tunnel", "update", tid, "--label", "k", "--format=json"))
    assert updated["attributes"]["label"] == "k"

    initialized = json_out(
        listener.run("--format", "json", "environment", "initialize", tid,
                     "--listener-contact-string", "127.0.0.1:9")
    )  # fmt: skip
    assert initialized["role"] == "listener" and initialized["tunnel_state"] == "ACTIVE"
    waited = json_out(listener.run("tunnel", "wait", tid, "--state", "ACTIVE", "-F", "json"))
    assert waited == {"id": tid, "state": "ACTIVE"}
    ini = json_out(initiator.run("environment", "initialize", tid, "-F", "json"))
    assert ini["contact_string"].startswith(f"globus.{tid}:")
    lookup = json_out(initiator.run("environment", "contact-lookup", tid, "-F", "json"))
    assert lookup == {"tunnel_id": tid, "contact_string": ini["connector_contact_string"]}
    shown = json_out(initiator.run("environment", "show", tid, "-F", "json"))
    assert shown["values"]["lankey"] == "********"
    conf_update = json_out(initiator.run("environment", "update", tid, "--cs-ttl", "5", "-Fjson"))
    assert conf_update["values"]["connector_contact_string_ttl"] == "5"
    events = json_out(listener.run("tunnel", "events", tid, "-F", "json"))
    assert "TUNNEL_ACTIVE" in [e["attributes"]["code"] for e in events]

    assert json_out(listener.run("tunnel", "stop", tid, "-F", "json"))["id"] == tid
    control.advance(5)
    cleaned = json_out(initiator.run("environment", "cleanup", "--all", "-F", "json"))
    assert cleaned["removed"] == [tid] and cleaned["reasons"][tid] == "STOPPED at Transfer"
    assert json_out(listener.run("tunnel", "delete", tid, "-F", "json")) == {
        "id": tid,
        "deleted": True,
    }

    aps = json_out(listener.run("access-point", "list", "-F", "json"))
    assert {iap, lap} <= {d["id"] for d in aps}
    assert json_out(listener.run("access-point", "show", iap, "-F", "json"))["id"] == iap
    assert json_out(listener.run("login", "-F", "json")) == {
        "logged_in": True,
        "mode": "client credentials",
    }
    assert json_out(listener.run("whoami", "-F", "json"))["id"] == env["GLOBUS_STREAMS_CLIENT_ID"]
    assert json_out(listener.run("logout", "-F", "json")) == {"logged_in": False}


def test_jmespath_selects_from_the_json(listener, tunnel):
    state = listener.ok("tunnel", "list", "--jmespath", f"[?id=='{tunnel}'].attributes.state")
    assert json.loads(state.stdout) == ["AWAITING_LISTENER"]
    # Before the command name too, under its globus-cli alias; strings print as JSON.
    label = listener.ok("--jq", "attributes.lifetime_mins", "tunnel", "show", tunnel)
    assert label.stdout == "20\n"
    ident = listener.ok("tunnel", "show", tunnel, "--jmespath", "id")
    assert ident.stdout == f'"{tunnel}"\n'


def test_the_last_format_given_wins(listener, tunnel):
    text = listener.ok("-F", "json", "tunnel", "show", tunnel, "-F", "text").stdout
    assert text.startswith("ID:") and tunnel in text


@pytest.mark.parametrize(
    "args, kind, status",
    [
        (["tunnel", "show", str(uuid.UUID(int=7)), "-F", "json"], "not_found", 4),
        (["-F", "json", "tunnel", "show"], "usage", 2),
        (["tunnel", "show", "not-a-uuid", "--jmespath", "id"], "bad_input", 1),
        (["tunnel", "list", "--jmespath", "[[["], "usage", 2),
        (["--format", "json", "tunnel", "frobnicate"], "usage", 2),
    ],
)
def test_errors_in_json_mode_are_one_json_line_on_stderr(listener, args, kind, status):
    error = json_error(listener.run(*args))
    assert (error["error"], error["exit_status"]) == (kind, status)
    assert error["message"] and "\n" not in error["message"]


def test_version_and_help_list_the_exit_codes(listener):
    version = listener.ok("--version").stdout
    assert __version__ in version and "globus-streams" in version
    help_text = listener.ok("--help").stdout
    for code in ExitCode:
        assert f"  {int(code)}  " in help_text
