"""Start a program inside a tunnel's environment (SPEC 3.3), the Python twin of the launcher.

`launch_env()` computes the variables the intercept library reads; `launch()` starts the
command with them and returns the `subprocess.Popen`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from .conf import DIR_ENV, TunnelConf, conf_dir
from .contact import parse_host_port
from .elf import is_static_elf
from .errors import StreamsError

PORT_VAR_PREFIX = "GLOBUS_STREAMS_INTERCEPT_PORT_"


class StaticProgramWarning(UserWarning):
    """`launch()` was asked to run a program the intercept library cannot see into."""


def library_path() -> Path:
    """The intercept library built for this machine, inside the installed package."""
    from orbit_globus.native import library_path as native_library_path

    try:
        return native_library_path()
    except FileNotFoundError as err:  # its message names the build command
        raise StreamsError(str(err)) from None


def cli_path() -> str:
    """The `globus-streams` executable the library runs to refresh a stale contact."""
    beside_python = Path(sys.executable).parent / "globus-streams"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("globus-streams")
    if found is None:
        raise StreamsError("globus-streams is not on PATH; reinstall the orbit-globus package")
    return found


def uninitialized_message(tunnel_id: str, path: Path) -> str:
    return (
        f"tunnel {tunnel_id} is not initialized here (no {path}); run "
        f"'globus-streams environment initialize {tunnel_id}' on the initiator side or "
        f"'globus-streams environment initialize --listener-contact-string HOST:PORT "
        f"{tunnel_id}' on the listener side"
    )


def launch_env(
    tunnel_id: str,
    *,
    port: int | None = None,
    debug: bool = False,
    log_file: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a program started in `tunnel_id`'s tunnel, based on `env`."""
    result = dict(os.environ if env is None else env)
    # The program's environment decides, not this process's: its dir, else its HOME's.
    home_default = Path(result["HOME"]) / ".globus" / "streams" if "HOME" in result else None
    directory = conf_dir(base_dir or result.get(DIR_ENV) or home_default)
    conf = TunnelConf.load_if_exists(tunnel_id, directory)
    if conf is None:
        tid = TunnelConf.new(tunnel_id, directory)
        raise StreamsError(uninitialized_message(tid.tunnel_id, tid.path))

    if port is None and conf.is_listener:
        if not conf.listener_contact_string:
            raise StreamsError(f"{conf.path} has no listener_contact_string; pass a port with -p")
        port = parse_host_port(conf.listener_contact_string)[1]
    if port is not None:
        if not 0 < port < 65536:
            raise StreamsError(f"bad port {port}: expected 1-65535")
        result[f"{PORT_VAR_PREFIX}{port}"] = conf.tunnel_id

    tunnels = [t for t in result.get("GLOBUS_STREAMS_TUNNELS", "").split(",") if t]
    if conf.tunnel_id not in tunnels:
        tunnels.append(conf.tunnel_id)
    result["GLOBUS_STREAMS_TUNNELS"] = ",".join(tunnels)
    result["GLOBUS_STREAMS_DIR"] = str(directory)
    result["GLOBUS_STREAMS_CLI"] = result.get("GLOBUS_STREAMS_CLI") or cli_path()
    if debug or log_file:
        result["GLOBUS_STREAMS_DEBUG"] = "1"
    if log_file:
        result["GLOBUS_STREAMS_LOG"] = str(Path(log_file).absolute())

    existing = result.get("LD_PRELOAD", "")
    library = str(library_path())
    result["LD_PRELOAD"] = f"{library} {existing}" if existing else library
    return result


def launch(
    tunnel_id: str,
    command: Sequence[str],
    *,
    port: int | None = None,
    debug: bool = False,
    log_file: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    **popen_kwargs: object,
) -> subprocess.Popen:
    """Start `command` in the tunnel's environment; extra keywords go to `subprocess.Popen`."""
    if not command:
        raise StreamsError("launch needs a command to run")
    full_env = launch_env(
        tunnel_id, port=port, debug=debug, log_file=log_file, base_dir=base_dir, env=env
    )
    program = shutil.which(command[0], path=full_env.get("PATH"))
    if program is not None and is_static_elf(program):
        warnings.warn(
            f"{program} is statically linked; its connections cannot be intercepted",
            StaticProgramWarning,
            stacklevel=2,
        )
    return subprocess.Popen(list(command), env=full_env, **popen_kwargs)  # type: ignore[call-overload]
