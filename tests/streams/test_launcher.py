"""The launcher script and `launch()` (SPEC 3.3), run as real processes with `env` as COMMAND."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orbit_globus.streams import launcher as launch_mod
from orbit_globus.streams.errors import StreamsError

from .launcher_env import (
    OTHER,
    SCRIPT,
    TUNNEL,
    base_env,
    library_of,
    run_launcher,
    streams_vars,
    write_conf,
)


def test_initiator_environment(package, conf_dir):
    write_conf(conf_dir, role="initiator", fake_port="3664")
    result = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode == 0, result.stderr
    assert streams_vars(result.stdout) == {
        "GLOBUS_STREAMS_TUNNELS": TUNNEL,
        "GLOBUS_STREAMS_DIR": str(conf_dir),
        "GLOBUS_STREAMS_CLI": "/opt/bin/globus-streams",
        "LD_PRELOAD": library_of(package),
    }


def test_existing_preload_and_tunnels_are_kept(package, conf_dir):
    write_conf(conf_dir, role="initiator")
    env = base_env(conf_dir, LD_PRELOAD="/usr/lib/other.so", GLOBUS_STREAMS_TUNNELS=OTHER)
    result = run_launcher(package, [TUNNEL.upper(), "env"], env)
    assert result.returncode == 0, result.stderr
    got = streams_vars(result.stdout)
    assert got["LD_PRELOAD"] == f"{library_of(package)} /usr/lib/other.so"
    assert got["GLOBUS_STREAMS_TUNNELS"] == f"{OTHER},{TUNNEL}"


def test_listener_port_comes_from_the_conf(package, conf_dir):
    write_conf(conf_dir, role="listener", listener_contact_string="10.0.2.164:8888")
    result = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode == 0, result.stderr
    assert streams_vars(result.stdout)["GLOBUS_STREAMS_INTERCEPT_PORT_8888"] == TUNNEL


def test_port_option_overrides_the_conf(package, conf_dir):
    write_conf(conf_dir, role="listener", listener_contact_string="[::1]:8888")
    result = run_launcher(package, ["-p", "9999", TUNNEL, "env"], base_env(conf_dir))
    got = streams_vars(result.stdout)
    assert got["GLOBUS_STREAMS_INTERCEPT_PORT_9999"] == TUNNEL
    assert "GLOBUS_STREAMS_INTERCEPT_PORT_8888" not in got


def test_listener_without_contact_needs_p(package, conf_dir):
    write_conf(conf_dir, role="listener")
    result = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode != 0
    assert "-p PORT" in result.stderr and result.stderr.count("\n") == 1


def test_debug_and_log_file(package, conf_dir, tmp_path):
    write_conf(conf_dir, role="initiator")
    debug = streams_vars(run_launcher(package, ["-d", TUNNEL, "env"], base_env(conf_dir)).stdout)
    assert debug["GLOBUS_STREAMS_DEBUG"] == "1" and "GLOBUS_STREAMS_LOG" not in debug
    env = base_env(conf_dir)
    script = package / "scripts" / SCRIPT.name
    logged = subprocess.run(
        [str(script), "-l", "debug.log", TUNNEL, "env"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    got = streams_vars(logged.stdout)
    assert got["GLOBUS_STREAMS_DEBUG"] == "1"
    assert got["GLOBUS_STREAMS_LOG"] == str(tmp_path / "debug.log")


def test_command_arguments_pass_through_untouched(package, conf_dir):
    write_conf(conf_dir, role="initiator")
    result = run_launcher(package, [TUNNEL, "printf", "%s|", "a b", "-p", "*"], base_env(conf_dir))
    assert result.stdout == "a b|-p|*|"


def test_uninitialized_tunnel_names_the_initialize_command(package, conf_dir):
    result = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert f"globus-streams environment initialize {TUNNEL}" in lines[0]
    assert f"--listener-contact-string HOST:PORT {TUNNEL}" in lines[0]


def test_conf_readable_by_others_is_refused(package, conf_dir):
    conf = write_conf(conf_dir, role="initiator", lankey="hushhush")
    conf.path.chmod(0o644)
    result = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert result.returncode != 0 and "0644" in result.stderr
    assert "hushhush" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "missing TUNNEL_ID"),
        ([TUNNEL], "missing COMMAND"),
        (["not-a-uuid", "env"], "expected a UUID"),
        (["-p", "70000", TUNNEL, "env"], "bad port"),
        (["-x", TUNNEL, "env"], "unknown option"),
    ],
)
def test_bad_usage_is_one_line(package, conf_dir, args, fragment):
    result = run_launcher(package, args, base_env(conf_dir))
    assert result.returncode == 2
    assert fragment in result.stderr and result.stderr.count("\n") == 1


def test_missing_library_is_explained(package, conf_dir, tmp_path):
    write_conf(conf_dir, role="initiator")
    shutil.rmtree(package / "_lib")
    # A CLI whose Python cannot locate the package either.
    fake_cli = tmp_path / "globus-streams"
    fake_cli.write_text("#!/bin/false\n")
    fake_cli.chmod(0o755)
    env = base_env(conf_dir, GLOBUS_STREAMS_CLI=str(fake_cli))
    result = run_launcher(package, [TUNNEL, "env"], env)
    assert result.returncode != 0 and "libintercept/build.py" in result.stderr


def static_program() -> str | None:
    candidate = shutil.which("ldconfig") or "/sbin/ldconfig"
    if not Path(candidate).is_file() or shutil.which("readelf") is None:
        return None
    headers = subprocess.run(["readelf", "-lW", candidate], capture_output=True, text=True)
    return None if "INTERP" in headers.stdout else candidate


def test_static_program_gets_a_warning(package, conf_dir):
    program = static_program()
    if program is None:
        pytest.skip("no statically linked program (ldconfig) or no readelf here")
    write_conf(conf_dir, role="initiator")
    result = run_launcher(package, [TUNNEL, program, "--version"], base_env(conf_dir))
    assert "statically linked" in result.stderr
    dynamic = run_launcher(package, [TUNNEL, "env"], base_env(conf_dir))
    assert "statically linked" not in dynamic.stderr


def test_installed_launcher_finds_the_library_through_the_package(conf_dir):
    installed = Path(sys.executable).parent / SCRIPT.name
    try:
        library = launch_mod.library_path()
    except StreamsError:
        pytest.skip("the intercept library is not built in this checkout")
    if not installed.exists():
        pytest.skip("the launcher is not installed beside this Python")
    write_conf(conf_dir, role="initiator")
    env = base_env(conf_dir)
    del env["GLOBUS_STREAMS_CLI"]
    result = subprocess.run(
        [str(installed), TUNNEL, "env"], env=env, capture_output=True, text=True, timeout=30
    )
    got = streams_vars(result.stdout)
    assert Path(got["LD_PRELOAD"]) == library.resolve()
    assert Path(got["GLOBUS_STREAMS_CLI"]) == installed.parent / "globus-streams"


# -- launch() from Python -------------------------------------------------------------------


def test_launch_matches_the_script(package, conf_dir, fake_library):
    write_conf(conf_dir, role="listener", listener_contact_string="127.0.0.1:7000")
    env = base_env(conf_dir, LD_PRELOAD="/usr/lib/other.so")
    process = launch_mod.launch(
        TUNNEL, ["env"], debug=True, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        stdout, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    script = run_launcher(package, ["-d", TUNNEL, "env"], env)
    assert streams_vars(stdout) == streams_vars(script.stdout)
    assert streams_vars(stdout)["GLOBUS_STREAMS_INTERCEPT_PORT_7000"] == TUNNEL


def test_launch_env_port_log_and_base_dir(conf_dir, fake_library, tmp_path):
    write_conf(conf_dir, role="initiator")
    env = launch_mod.launch_env(
        TUNNEL, port=5000, log_file="x.log", base_dir=conf_dir, env={"PATH": "/bin"}
    )
    assert env["GLOBUS_STREAMS_INTERCEPT_PORT_5000"] == TUNNEL
    assert env["GLOBUS_STREAMS_DEBUG"] == "1"
    assert Path(env["GLOBUS_STREAMS_LOG"]).is_absolute()
    assert env["GLOBUS_STREAMS_DIR"] == str(conf_dir)
    assert env["LD_PRELOAD"] == fake_library


def test_launch_uninitialized_raises(conf_dir, fake_library):
    with pytest.raises(StreamsError, match="--listener-contact-string HOST:PORT"):
        launch_mod.launch(TUNNEL, ["env"], base_dir=conf_dir)


def test_script_is_executable_in_the_package():
    assert SCRIPT.stat().st_mode & stat.S_IXUSR


def test_launch_env_follows_the_given_environments_home(tmp_path, fake_library):
    home = tmp_path / "elsewhere"
    write_conf(home / ".globus" / "streams", role="initiator")
    env = launch_mod.launch_env(TUNNEL, env={"HOME": str(home), "PATH": "/bin"})
    assert env["GLOBUS_STREAMS_DIR"] == str(home / ".globus" / "streams")


def test_launch_warns_about_a_static_program(conf_dir, fake_library):
    program = static_program()
    if program is None:
        pytest.skip("no statically linked program (ldconfig) or no readelf here")
    write_conf(conf_dir, role="initiator")
    with pytest.warns(launch_mod.StaticProgramWarning, match="statically linked"):
        process = launch_mod.launch(
            TUNNEL, [program, "--version"], base_dir=conf_dir, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    process.wait(timeout=30)


@pytest.mark.parametrize("name", ["env", "sh", sys.executable])
def test_dynamic_programs_and_scripts_are_not_static(name):
    from orbit_globus.streams.elf import is_static_elf

    path = shutil.which(name)
    assert path is not None and not is_static_elf(path)
    assert not is_static_elf(SCRIPT) and not is_static_elf("/nonexistent")
