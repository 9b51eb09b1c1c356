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

from .conf import DIR_ENV, ROLE_LISTENER, conf_dir
from .errors import StreamsError
from .launch_plan import plan_launch
from .programs import inspect_program

PORT_VAR_PREFIX = "GLOBUS_STREAMS_INTERCEPT_PORT_"
NO_CLI_MESSAGE = (
    "globus-streams is not on PATH; the initiator side runs it to refresh the access "
    "point's contact: install orbit-globus (pip) or set GLOBUS_STREAMS_CLI"
)


class StaticProgramWarning(UserWarning):
    """`launch()` was asked to run a program the intercept library cannot see into
    (statically linked, Go, io_uring: `orbit_globus.streams.programs`)."""


def library_path() -> Path:
    """The intercept library built for this machine, inside the installed package."""
    from orbit_globus.native import library_path as native_library_path

    try:
        return native_library_path()
    except FileNotFoundError as err:  # its message names the build command
        raise StreamsError(str(err)) from None


def cli_path(*, required: bool = True) -> str:
    """The `globus-streams` executable the library runs to refresh a stale contact.

    Only the initiator side needs it (`required`); otherwise "" when there is none.
    """
    beside_python = Path(sys.executable).parent / "globus-streams"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("globus-streams")
    if found is None and required:
        raise StreamsError(NO_CLI_MESSAGE)
    return found or ""


def launch_env(
    tunnel_id: str,
    *,
    port: int | None = None,
    debug: bool = False,
    log_file: str | os.PathLike[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a program started in `tunnel_id`'s tunnel, based on `env`.

    Refuses (`StreamsError`) what the launcher script refuses, with the same messages:
    both take their decisions from `plan_launch()`.
    """
    result = dict(os.environ if env is None else env)
    # The program's environment decides, not this process's: its dir, else its HOME's.
    home_default = Path(result["HOME"]) / ".globus" / "streams" if "HOME" in result else None
    directory = conf_dir(base_dir or result.get(DIR_ENV) or home_default)
    plan = plan_launch(tunnel_id, directory, port=port)
    if plan.port is not None:
        result[f"{PORT_VAR_PREFIX}{plan.port}"] = plan.tunnel_id

    tunnels = [t for t in result.get("GLOBUS_STREAMS_TUNNELS", "").split(",") if t]
    if plan.tunnel_id not in tunnels:
        tunnels.append(plan.tunnel_id)
    result["GLOBUS_STREAMS_TUNNELS"] = ",".join(tunnels)
    result["GLOBUS_STREAMS_DIR"] = str(directory)
    cli = result.get("GLOBUS_STREAMS_CLI") or cli_path(required=plan.role != ROLE_LISTENER)
    if cli:  # the listener side never runs the CLI
        result["GLOBUS_STREAMS_CLI"] = cli
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
    for finding in inspect_program(command[0], full_env.get("PATH")):
        warnings.warn(str(finding), StaticProgramWarning, stacklevel=2)
    return subprocess.Popen(list(command), env=full_env, **popen_kwargs)  # type: ignore[call-overload]
