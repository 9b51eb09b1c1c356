"""The launcher of an artifact run as a user without the CLI would: listener side, bare PATH.

The conf is written here (as `environment initialize` on another machine would have); the
launcher must read it with the modules shipped beside it, preload the artifact's library
and leave GLOBUS_STREAMS_CLI unset.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from smoke import bare_env

from orbit_globus import __version__
from orbit_globus.streams.conf import TunnelConf

TUNNEL = "0e8a675b-6b84-4220-89e4-a6a7a0d823fb"
PORT = 8765
# The program prints what the intercept library would see, then its own memory map.
REPORT = (
    'printf "%s\\n" "$LD_PRELOAD" "${GLOBUS_STREAMS_CLI-unset}" '
    f'"$GLOBUS_STREAMS_INTERCEPT_PORT_{PORT}"; cat /proc/self/maps'
)


def run_listener_side(launcher: Path, work: Path) -> tuple[str, str, str, str]:
    """(LD_PRELOAD, GLOBUS_STREAMS_CLI or 'unset', the port variable, /proc/self/maps)."""
    conf = TunnelConf.new(TUNNEL, work / "streams")
    conf.set(role="listener", lankey="s", listener_contact_string=f"127.0.0.1:{PORT}")
    conf.save()
    env = {**bare_env(), "HOME": str(work), "GLOBUS_STREAMS_DIR": str(work / "streams")}
    for directory in env["PATH"].split(os.pathsep):
        assert not (Path(directory) / "globus-streams").exists(), directory
    result = subprocess.run(
        [str(launcher), TUNNEL, "sh", "-c", REPORT],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    preload, cli, port_var, maps = result.stdout.split("\n", 3)
    return preload, cli, port_var, maps


def help_and_version(launcher: Path) -> tuple[str, str]:
    env = bare_env()
    shown = subprocess.run([str(launcher), "--help"], env=env, capture_output=True, text=True)
    version = subprocess.run([str(launcher), "--version"], env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and version.returncode == 0, shown.stderr + version.stderr
    assert version.stdout.strip().endswith(__version__)
    return shown.stdout, version.stdout
