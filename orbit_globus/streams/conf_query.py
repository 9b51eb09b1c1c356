"""The launcher's one question to the package: what does this tunnel's conf mean here?

    python -m orbit_globus.streams.conf_query [--port PORT] [--command NAME] [--library] TUNNEL_ID
    python -m orbit_globus.streams.conf_query --version

`globus-streams-launch.sh` runs this with the package's own interpreter instead of reading
the conf itself, so the launcher, `launch()` and the CLI share one reader (`TunnelConf`).
Contract, kept small on purpose:

- stdout, on success: `key=value` lines, in this order: `tunnel_id` (canonical),
  `conf_dir` (absolute), `role` (`initiator` or `listener`), `port` (to intercept, may be
  empty), `expires` (unix seconds, may be empty), `library` (with `--library`: the
  intercept library of this package; otherwise, or when there is none, empty), `cli` (the
  `globus-streams` beside this interpreter or on PATH, may be empty), `version`. Unknown
  keys may be added; readers skip them.
- stderr: one line `PROG: error: ...` when the launch must not happen (exit 1: no conf,
  refused conf, expired tunnel, listener without a port; exit 2: bad usage), and one
  `PROG: warning: ...` line per reason COMMAND cannot be intercepted.
- Only the standard library is imported: the .deb and the tarball ship this subpackage
  beside the launcher for machines where the CLI is not installed.

The conf directory is `$GLOBUS_STREAMS_DIR`, else `~/.globus/streams`, as for the CLI.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .conf import conf_dir
from .errors import StreamsError
from .launch_plan import USAGE_EXIT, plan_launch
from .programs import inspect_program

DEFAULT_PROG = "conf_query"
LIBRARY_FILE = "libglobus_streams_client.so.0"


class _Usage(Exception):
    pass


def _parse(argv: Sequence[str]) -> dict[str, str]:
    """`--name value` options and one positional TUNNEL_ID (argparse costs start-up time)."""
    args = list(argv)
    options: dict[str, str] = {}
    while args and args[0].startswith("--"):
        name = args.pop(0)[2:]
        if name == "version":
            options["version"] = ""
            continue
        if name == "library":  # asked only when the script has no _lib/ beside it
            options["library"] = ""
            continue
        if name not in ("port", "command", "prog") or not args:
            raise _Usage(f"unknown option or missing value: --{name}")
        options[name] = args.pop(0)
    if "version" not in options:
        if len(args) != 1:
            raise _Usage("expected one TUNNEL_ID")
        options["tunnel_id"] = args[0]
    return options


def _version() -> str:
    from orbit_globus import __version__

    return __version__


def _library() -> str:
    """native.library_path() without importing native: ctypes and the GSLA machines it
    loads cost the launcher a third of its start-up (tests check that both agree)."""
    import orbit_globus

    machine = os.uname().machine.lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    path = Path(orbit_globus.__file__).resolve().parent / "_lib" / arch / LIBRARY_FILE
    return str(path) if path.is_file() else ""


def _cli() -> str:
    beside = Path(sys.executable).parent / "globus-streams"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("globus-streams") or ""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = DEFAULT_PROG
    if "--prog" in argv[:-1]:
        prog = argv[argv.index("--prog") + 1]
    try:
        options = _parse(argv)
        if "version" in options:
            print(f"version={_version()}")
            return 0
        port_text = options.get("port")
        if port_text is not None and not port_text.isdigit():
            raise StreamsError(f"bad port '{port_text}': expected 1-65535", exit_code=USAGE_EXIT)
        plan = plan_launch(
            options["tunnel_id"], conf_dir(), port=int(port_text) if port_text else None
        )
    except _Usage as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return USAGE_EXIT
    except StreamsError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return err.exit_code
    command = options.get("command")
    if command:
        for finding in inspect_program(command):
            print(f"{prog}: warning: {finding}", file=sys.stderr)
    library = _library() if "library" in options else ""
    lines = [*plan.as_lines(), f"library={library}", f"cli={_cli()}", f"version={_version()}"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
