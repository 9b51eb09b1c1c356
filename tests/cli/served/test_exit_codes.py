"""One exit status per kind of failure, the same on every command (the table in --help)."""

from __future__ import annotations

import uuid

import pytest

from orbit_globus.streams.errors import ExitCode

from .checks import json_error, make_host, services_down_env, text_error

UNKNOWN = str(uuid.UUID(int=12345))


@pytest.mark.parametrize(
    "args",
    [
        ["tunnel", "show", UNKNOWN],
        ["tunnel", "update", UNKNOWN, "--label", "x"],
        ["tunnel", "stop", UNKNOWN],
        ["tunnel", "delete", UNKNOWN],
        ["tunnel", "events", UNKNOWN],
        ["tunnel", "wait", UNKNOWN, "--timeout", "5"],
        ["environment", "initialize", UNKNOWN, "--listener-contact-string", "127.0.0.1:9"],
        ["access-point", "show", UNKNOWN],
    ],
)
def test_unknown_ids_are_not_found_everywhere(listener, args):
    result = listener.run(*args)
    assert result.returncode == ExitCode.NOT_FOUND
    assert "not found" in text_error(result)


def test_another_identitys_tunnel_is_not_found(initiator, tunnel, control):
    other = control.create_client("someone else")
    env = initiator.env(
        GLOBUS_STREAMS_CLIENT_ID=other["client_id"],
        GLOBUS_STREAMS_CLIENT_SECRET=other["client_secret"],
    )
    result = initiator.run("tunnel", "show", tunnel, env=env)
    assert result.returncode == ExitCode.NOT_FOUND


def test_gcs_refusing_a_secret_is_denied(listener, tunnel, control):
    control.add_fault("http:route=create_lan_secret,status=403,count=0")
    result = listener.run(
        "-F", "json", "environment", "initialize", tunnel, "--listener-contact-string",
        "127.0.0.1:9",
    )  # fmt: skip
    error = json_error(result)
    assert (error["error"], result.returncode) == ("denied", ExitCode.NOT_FOUND)
    assert "GCS Manager" in error["message"] and "403" in error["message"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["tunnel", "show", "not-a-uuid"], "expected a UUID"),
        (["environment", "initialize", UNKNOWN, "--globus-contact", "example.test"], "HOST:PORT"),
        (["environment", "initialize", UNKNOWN, "--globus-contact", "example.test:0"], "1-65535"),
        (["environment", "initialize", UNKNOWN, "--globus-contact", ":443"], "HOST:PORT"),
        (["environment", "show", UNKNOWN], "environment initialize"),
    ],
)
def test_bad_input_is_1_before_any_network_call(listener, args, fragment):
    dead = listener.env(GLOBUS_SDK_SERVICE_URL_TRANSFER="http://127.0.0.1:9/transfer/")
    result = listener.run(*args, env=dead)
    assert result.returncode == ExitCode.BAD_INPUT
    assert fragment in text_error(result)


def test_usage_errors_are_2(listener):
    for args in (["tunnel", "show"], ["tunnel", "update", UNKNOWN], ["nope"], ["--bogus"]):
        result = listener.run(*args)
        assert result.returncode == ExitCode.USAGE, args
        assert "--help" in text_error(result)


def test_wrong_client_secret_says_to_check_the_variables(tmp_path, sim_env):
    fresh = make_host(tmp_path, "fresh-home", sim_env)  # no stored token to fall back on
    env = fresh.env(GLOBUS_STREAMS_CLIENT_SECRET="not-the-secret")
    result = fresh.run("tunnel", "list", env=env)
    assert result.returncode == ExitCode.LOGIN
    line = text_error(result)
    assert "GLOBUS_STREAMS_CLIENT_SECRET" in line and "globus-streams login" not in line
    assert "not-the-secret" not in result.stderr


def test_no_credentials_at_all_is_a_login_failure(listener):
    env = listener.env()
    del env["GLOBUS_STREAMS_CLIENT_ID"], env["GLOBUS_STREAMS_CLIENT_SECRET"]
    error = json_error(listener.run("tunnel", "list", "-F", "json", env=env))
    assert (error["error"], error["exit_status"]) == ("login_required", ExitCode.LOGIN)


def test_network_down_is_3(listener):
    env, _ = services_down_env(listener)
    result = listener.run("tunnel", "list", env=env)
    assert result.returncode == ExitCode.UNREACHABLE
    assert "cannot reach" in text_error(result)


def test_a_service_error_that_persists_is_5(listener, tunnel, control):
    control.add_fault("http:route=get_tunnel,status=503,count=0")
    error = json_error(listener.run("tunnel", "show", tunnel, "-F", "json"))
    assert (error["error"], error["exit_status"]) == ("service_error", ExitCode.SERVICE)
    assert (error["http_status"], error["code"]) == (503, "ServiceUnavailable")
    assert error["request_id"] and "503" in error["message"]
