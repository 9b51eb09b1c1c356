"""The launcher's own options and its decisions, which must be TunnelConf's (one meaning).

Each conf below is written as raw text (CRLF, duplicates, `=` in values, junk numbers) and
given to the real launcher script and to `launch_env()`; what they do (refuse, which port
they intercept, whether they need the CLI) must follow from `TunnelConf`'s reading.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import orbit_globus
from orbit_globus.streams import launcher as launch_mod
from orbit_globus.streams.conf import TunnelConf
from orbit_globus.streams.contact import parse_host_port
from orbit_globus.streams.errors import StreamsError

from .launcher_env import TUNNEL, base_env, run_launcher, streams_vars, write_conf

# A PATH with a python3 and the usual tools but no globus-streams.
PATH_WITHOUT_CLI = "/usr/bin:/bin"
PAST = "1"
FUTURE = str(int(time.time()) + 3600)


# -- --help and --version -------------------------------------------------------------------


@pytest.mark.parametrize("option", ["-h", "--help"])
def test_help(package, conf_dir, option):
    result = run_launcher(package, [option], base_env(conf_dir))
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: globus-streams-launch.sh [-d] [-l FILE] [-p PORT]")
    assert "--listener-contact-string HOST:PORT TUNNEL_ID" in result.stdout


@pytest.mark.parametrize("option", ["-V", "--version"])
def test_version_is_the_packages(package, conf_dir, option):
    result = run_launcher(package, [option], base_env(conf_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"globus-streams-launch.sh (orbit-globus) {orbit_globus.__version__}\n"


def test_unknown_long_option_is_one_line(package, conf_dir):
    result = run_launcher(package, ["--frobnicate", TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode == 2
    assert result.stderr == (
        "globus-streams-launch.sh: error: unknown option --frobnicate (see --help)\n"
    )


def test_options_after_the_tunnel_belong_to_the_command(package, conf_dir):
    write_conf(conf_dir, role="initiator")
    result = run_launcher(package, [TUNNEL, "printf", "%s|", "--help"], base_env(conf_dir))
    assert result.returncode == 0 and result.stdout == "--help|"


# -- expiry -----------------------------------------------------------------------------------


def test_expired_tunnel_is_refused_with_the_command_to_run(package, conf_dir, fake_library):
    write_conf(
        conf_dir,
        role="listener",
        listener_contact_string="127.0.0.1:8888",
        tunnel_expiration_time=PAST,
    )
    result = run_launcher(package, [TUNNEL, "echo", "ran"], base_env(conf_dir))
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"globus-streams-launch.sh: error: tunnel {TUNNEL} expired at 1970-")
    assert line.endswith(
        "globus-streams environment initialize --force "
        f"--listener-contact-string 127.0.0.1:8888 {TUNNEL}"
    )
    with pytest.raises(StreamsError) as raised:
        launch_mod.launch_env(TUNNEL, base_dir=conf_dir, env={"PATH": "/bin"})
    assert line.endswith(str(raised.value))


def test_tunnel_expiring_later_runs(package, conf_dir):
    write_conf(conf_dir, role="initiator", tunnel_expiration_time=FUTURE)
    result = run_launcher(package, [TUNNEL, "echo", "ran"], base_env(conf_dir))
    assert result.returncode == 0 and result.stdout == "ran\n"


# -- the CLI is for the initiator side only ---------------------------------------------------


def cli_less_env(conf_dir: Path) -> dict[str, str]:
    env = base_env(conf_dir, PATH=PATH_WITHOUT_CLI)
    del env["GLOBUS_STREAMS_CLI"]
    return env


def test_listener_runs_without_the_cli(package, conf_dir, fake_library):
    write_conf(conf_dir, role="listener", listener_contact_string="127.0.0.1:8888")
    result = run_launcher(package, [TUNNEL, "env"], cli_less_env(conf_dir))
    assert result.returncode == 0, result.stderr
    got = streams_vars(result.stdout)
    assert got["GLOBUS_STREAMS_INTERCEPT_PORT_8888"] == TUNNEL
    assert "GLOBUS_STREAMS_CLI" not in got
    env = launch_mod.launch_env(TUNNEL, base_dir=conf_dir, env=cli_less_env(conf_dir))
    assert (
        "GLOBUS_STREAMS_CLI" not in env
        or Path(env["GLOBUS_STREAMS_CLI"]).parent == Path(sys.executable).parent
    )  # launch() finds the CLI beside its own Python when there is one


def test_initiator_without_the_cli_says_how_to_get_it(package, conf_dir):
    write_conf(conf_dir, role="initiator")
    result = run_launcher(package, [TUNNEL, "env"], cli_less_env(conf_dir))
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "globus-streams is not on PATH" in line and "GLOBUS_STREAMS_CLI" in line


# -- one meaning: the launcher's decisions are TunnelConf's -----------------------------------

CONFS = {
    "listener": "role=listener\nlistener_contact_string=127.0.0.1:8080\n",
    "crlf": "role=listener\r\nlistener_contact_string=127.0.0.1:8081\r\n",
    "duplicates, last wins": (
        "role=initiator\nrole=listener\nlistener_contact_string=h:1\n"
        "listener_contact_string=h:8082\n"
    ),
    "= in values": "role=initiator\nlankey=a=b=c\nglobus_contact=x:1=2\n",
    "ipv6 listener": "role=listener\nlistener_contact_string=[::1]:9000\n",
    "spaces around the key": " role =listener\nlistener_contact_string=h:9001\n",
    "comments and blank lines": "# by hand\n\nrole=listener\nlistener_contact_string=h:9002\n",
    "empty role": "role=\nlistener_contact_string=h:9003\n",
    "absent role": "lankey=x\n",
    "unknown role": "role=LISTENER\nlistener_contact_string=h:9004\n",
    "empty file": "",
    "listener without contact": "role=listener\n",
    "listener with a port-less contact": "role=listener\nlistener_contact_string=host\n",
    "listener with port 0": "role=listener\nlistener_contact_string=host:0\n",
    "listener with port 70000": "role=listener\nlistener_contact_string=host:70000\n",
    "not key=value": "role=initiator\njunk\n",
    "expired": f"role=initiator\ntunnel_expiration_time={PAST}\n",
    "expired, spaces": f"role=initiator\ntunnel_expiration_time= {PAST} \n",
    "expires later": f"role=initiator\ntunnel_expiration_time={FUTURE}\n",
    "expiry empty": "role=initiator\ntunnel_expiration_time=\n",
    "expiry huge": "role=initiator\ntunnel_expiration_time=99999999999999999999999999\n",
    "expiry negative": "role=initiator\ntunnel_expiration_time=-5\n",
    "expiry not a number": "role=initiator\ntunnel_expiration_time=soon\n",
    "expiry float": "role=initiator\ntunnel_expiration_time=1e30\n",
    "expired, duplicate later": (
        f"role=initiator\ntunnel_expiration_time={FUTURE}\ntunnel_expiration_time={PAST}\n"
    ),
}


def expected_decision(conf_dir: Path) -> tuple[str, str | None, int | None]:
    """(outcome, role, port) as TunnelConf reads the conf: the reference meaning."""
    try:
        conf = TunnelConf.load(TUNNEL, conf_dir)
    except StreamsError:
        return "refused", None, None
    if conf.is_expired():
        return "expired", None, None
    if not conf.is_listener:
        return "runs", "initiator", None
    try:
        return "runs", "listener", parse_host_port(conf.listener_contact_string or "")[1]
    except StreamsError:
        return "refused", None, None


def launcher_decision(pkg: Path, conf_dir: Path) -> tuple[str, str | None, int | None]:
    """What the script did: refused (why), or ran, with which port and needing the CLI."""
    result = run_launcher(pkg, [TUNNEL, "env"], cli_less_env(conf_dir))
    if result.returncode != 0:
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        if "expired at" in result.stderr:
            return "expired", None, None
        if "globus-streams is not on PATH" in result.stderr:
            return "runs", "initiator", None  # only the initiator side asks for the CLI
        return "refused", None, None
    ports = [
        int(name.rsplit("_", 1)[1])
        for name in streams_vars(result.stdout)
        if name.startswith("GLOBUS_STREAMS_INTERCEPT_PORT_")
    ]
    assert len(ports) == 1, result.stdout
    return "runs", "listener", ports[0]


def python_decision(conf_dir: Path) -> tuple[str, str | None, int | None]:
    try:
        env = launch_mod.launch_env(TUNNEL, base_dir=conf_dir, env={"PATH": "/bin"})
    except StreamsError as err:
        return ("expired" if "expired at" in str(err) else "refused"), None, None
    ports = [int(k.rsplit("_", 1)[1]) for k in env if k.startswith("GLOBUS_STREAMS_INTERCEPT_")]
    return ("runs", "listener", ports[0]) if ports else ("runs", "initiator", None)


@pytest.mark.parametrize("text", CONFS.values(), ids=CONFS.keys())
def test_launcher_decides_as_tunnelconf_reads(package, conf_dir, fake_library, text):
    conf_dir.mkdir(mode=0o700)
    path = conf_dir / f"{TUNNEL}.conf"
    path.write_bytes(text.encode())
    path.chmod(0o600)
    expected = expected_decision(conf_dir)
    assert launcher_decision(package, conf_dir) == expected
    assert python_decision(conf_dir) == expected


def test_the_table_covers_every_outcome(tmp_path):
    outcomes = set()
    for number, text in enumerate(CONFS.values()):
        directory = tmp_path / str(number)
        directory.mkdir(mode=0o700)
        (directory / f"{TUNNEL}.conf").write_text(text)
        (directory / f"{TUNNEL}.conf").chmod(0o600)
        outcomes.add(expected_decision(directory)[:2])
    assert outcomes == {
        ("runs", "listener"),
        ("runs", "initiator"),
        ("refused", None),
        ("expired", None),
    }


def test_the_helper_prints_its_contract(conf_dir):
    write_conf(
        conf_dir,
        role="listener",
        listener_contact_string="[::1]:7001",
        tunnel_expiration_time=FUTURE,
    )
    result = subprocess.run(
        [sys.executable, "-m", "orbit_globus.streams.conf_query", TUNNEL.upper()],
        env=base_env(conf_dir),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert list(lines)[:5] == ["tunnel_id", "conf_dir", "role", "port", "expires"]
    assert lines["tunnel_id"] == TUNNEL and lines["conf_dir"] == str(conf_dir)
    assert (lines["role"], lines["port"], lines["expires"]) == ("listener", "7001", FUTURE)
    assert lines["version"] == orbit_globus.__version__


def test_the_helper_finds_the_library_where_native_does():
    from orbit_globus.native import library_path
    from orbit_globus.streams import conf_query

    try:
        expected = str(library_path())
    except FileNotFoundError:
        pytest.skip("the intercept library is not built in this checkout")
    assert conf_query._library() == expected
