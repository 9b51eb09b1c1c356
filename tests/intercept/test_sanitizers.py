"""The library's core and hooks under ThreadSanitizer (faults/tsan_tunnels.c): forced
contact refreshes of more than 8 tunnels at once (one lookup per tunnel at a time, whatever
the number of tunnels), and two threads connecting through a tunnel at once. (The
AddressSanitizer+UBSan build of the preloaded library is a CI leg: see .ci/run.)"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from tests.intercept.clang_tsan import TSAN_ENV, build_tsan_program
from tests.intercept.confs import ConfDir
from tests.intercept.faults import HERE as FAULTS
from tests.intercept.targets import reply_for
from tests.intercept.tunnels import FAKE_PORT

CONTACT = "127.0.0.1:7777"
TUNNELS = 12  # more than the 8 entries the contact cache once recycled
PAYLOAD = b"two threads at once\n"

# A stand-in CLI that notices when two lookups of one tunnel overlap.
LOCKING_CLI = """#!/bin/sh
if mkdir "{folder}/lock-$3" 2>/dev/null; then
  echo "$*" >> "{folder}/cli.log"
  sleep 0.2
  rmdir "{folder}/lock-$3"
else
  echo "overlap $3" >> "{folder}/cli.log"
fi
echo {contact}
"""


@pytest.fixture(scope="module")
def tsan_program(build_module, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    output = tmp_path_factory.mktemp("tsan") / "tsan_tunnels"
    sources = [*build_module.library_sources(), FAULTS / "tsan_tunnels.c"]
    return build_tsan_program(build_module, sources, output)


def run_tsan(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in env.items() if k != "LD_PRELOAD"}  # the hooks are built in
    return subprocess.run(
        argv, env={**env, **TSAN_ENV}, capture_output=True, text=True, timeout=120, check=False
    )


def test_forced_refresh_of_many_tunnels_at_once(
    tsan_program: Path, confs: ConfDir, tmp_path: Path
) -> None:
    ids = [str(uuid.uuid4()) for _ in range(TUNNELS)]
    for tunnel_id in ids:
        confs.initiator(tunnel_id, "127.0.0.1:1", "secret", uuid.uuid4())
    cli = tmp_path / "globus-streams"
    cli.write_text(LOCKING_CLI.format(folder=tmp_path, contact=CONTACT))
    cli.chmod(0o700)
    env = {
        "PATH": "/usr/bin:/bin",
        "GLOBUS_STREAMS_DIR": str(confs.path),
        "GLOBUS_STREAMS_CLI": str(cli),
        "GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS": "20000",
    }
    result = run_tsan([str(tsan_program), "refresh", CONTACT, *ids], env)
    assert "ThreadSanitizer" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ok refresh {TUNNELS}\n"
    calls = (tmp_path / "cli.log").read_text().splitlines()
    assert not [c for c in calls if c.startswith("overlap")], calls
    # Two threads per tunnel, one lookup: the second thread waited for the first's answer.
    assert sorted(calls) == sorted(f"environment contact-lookup {t} --refresh" for t in ids)


def test_two_threads_connecting_at_once(tsan_program: Path, tunnels, hash_server) -> None:  # type: ignore[no-untyped-def]
    tunnel = tunnels(hash_server.address)
    digest = reply_for(PAYLOAD)[-64:].decode()
    argv = [str(tsan_program), "connect", tunnel.name, str(FAKE_PORT), digest]
    result = run_tsan(argv, tunnel.env)
    assert "ThreadSanitizer" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok connect\n"
    assert len(hash_server.received) == 2
