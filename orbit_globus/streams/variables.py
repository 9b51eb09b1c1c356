"""Stray, malformed or missing variables (SPEC 3.3's table and the CLI's credentials).

The library reads its variables silently: a typo in a name, `GLOBUS_STREAMS_DEBUG=yes` or
a tunnel variable without the preload all end in "nothing was intercepted". Values are
never repeated in a finding (the client secret is one of these variables).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

from .conf import DIR_ENV
from .findings import Finding, blocking, warning
from .launcher import PORT_VAR_PREFIX as PORT_PREFIX

PREFIX = "GLOBUS_STREAMS_"
TUNNELS = "GLOBUS_STREAMS_TUNNELS"
CLI = "GLOBUS_STREAMS_CLI"
DEBUG = "GLOBUS_STREAMS_DEBUG"
LOG = "GLOBUS_STREAMS_LOG"
TIMEOUT = "GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS"
CLIENT_ID = "GLOBUS_STREAMS_CLIENT_ID"
CLIENT_SECRET = "GLOBUS_STREAMS_CLIENT_SECRET"
KNOWN = frozenset(
    {
        TUNNELS,
        DIR_ENV,
        CLI,
        DEBUG,
        LOG,
        TIMEOUT,
        CLIENT_ID,
        CLIENT_SECRET,
        "GLOBUS_STREAMS_NATIVE_CLIENT_ID",
    }
)
MAX_TIMEOUT_MS = 3_600_000  # libintercept/src/core/env.h
LIBRARY_NAME = "libglobus_streams_client.so"
CHECK = "variables"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text.strip())
    except ValueError:
        return False
    return True


def _preloaded(env: Mapping[str, str]) -> list[str]:
    """The intercept library's entries in LD_PRELOAD (space- or colon-separated)."""
    entries = env.get("LD_PRELOAD", "").replace(":", " ").split()
    return [e for e in entries if LIBRARY_NAME in os.path.basename(e)]


def check_variables(env: Mapping[str, str]) -> list[Finding]:
    findings = [*_names(env), *_values(env), *_preload(env)]
    if bool(env.get(CLIENT_ID)) != bool(env.get(CLIENT_SECRET)):
        have, lack = (
            (CLIENT_ID, CLIENT_SECRET) if env.get(CLIENT_ID) else (CLIENT_SECRET, CLIENT_ID)
        )
        findings.append(
            warning(CHECK, f"{have} is set but {lack} is not: the CLI uses client credentials "
                    "only with both, and falls back to the stored login")
        )  # fmt: skip
    return findings


def _names(env: Mapping[str, str]) -> list[Finding]:
    unknown = sorted(
        name
        for name in env
        if name.startswith(PREFIX) and name not in KNOWN and not name.startswith(PORT_PREFIX)
    )
    return [
        warning(CHECK, f"{name} is not a variable the library or the CLI reads (a typo?)")
        for name in unknown
    ]


def _values(env: Mapping[str, str]) -> list[Finding]:
    findings = []
    for name, value in sorted(env.items()):
        if not name.startswith(PORT_PREFIX):
            continue
        port = name[len(PORT_PREFIX) :]
        if not (port.isdigit() and 0 < int(port) < 65536 and port == str(int(port))):
            findings.append(warning(CHECK, f"{name} names no port 1-65535: it matches no socket"))
        elif not _is_uuid(value):
            findings.append(
                warning(CHECK, f"{name} is not a tunnel id: port {port} is not intercepted")
            )
    bad = [t for t in env.get(TUNNELS, "").split(",") if t.strip() and not _is_uuid(t)]
    if bad:
        findings.append(warning(CHECK, f"{TUNNELS} has {len(bad)} item(s) that are not tunnel ids"))
    timeout = env.get(TIMEOUT)
    if timeout and not (timeout.isdigit() and 0 < int(timeout) <= MAX_TIMEOUT_MS):
        findings.append(
            warning(CHECK, f"{TIMEOUT} is not 1..{MAX_TIMEOUT_MS} milliseconds: the library "
                    "uses its default (10000)")
        )  # fmt: skip
    debug = env.get(DEBUG)
    if debug not in (None, "", "0", "1"):
        findings.append(warning(CHECK, f"{DEBUG} is neither 0 nor 1: only 1 turns debug output on"))
    if env.get(LOG) and debug != "1":
        findings.append(warning(CHECK, f"{LOG} does nothing without {DEBUG}=1"))
    elif env.get(LOG) and not os.access(Path(env[LOG]).parent, os.W_OK):
        findings.append(warning(CHECK, f"{LOG}'s directory is not writable: debug output is lost"))
    cli = env.get(CLI)
    if cli and not (os.path.isfile(cli) and os.access(cli, os.X_OK)):
        findings.append(
            blocking(CHECK, f"{CLI} is not an executable file: the initiator side cannot "
                     "refresh the access point's contact")
        )  # fmt: skip
    return findings


def _preload(env: Mapping[str, str]) -> list[Finding]:
    preloaded = _preloaded(env)
    routed = bool(env.get(TUNNELS)) or any(n.startswith(PORT_PREFIX) for n in env)
    missing = [path for path in preloaded if not os.path.isfile(path)]
    findings = [
        warning(CHECK, f"LD_PRELOAD names {path}, which does not exist: nothing is intercepted")
        for path in missing
    ]
    if routed and not preloaded:
        findings.append(
            warning(CHECK, f"{TUNNELS} or {PORT_PREFIX}<port> is set but LD_PRELOAD does not "
                    "load the intercept library, so nothing reads them; start programs with "
                    "globus-streams-launch.sh")
        )  # fmt: skip
    elif len(preloaded) > len(missing) and not routed:
        findings.append(
            warning(CHECK, "LD_PRELOAD loads the intercept library into every program started "
                    "here, but names no tunnel; start programs with globus-streams-launch.sh")
        )  # fmt: skip
    return findings
