"""Wall time of a 20-test user suite on the pytest plugin: function- vs session-scoped fixtures.

    .venv/bin/python benchmarks/bench_fixtures.py [--rounds 3] [--tests 20]

Two suites a user would write, each run as `pytest -q` in a fresh process (interpreter
start-up and collection included, as the user waits for them):
- streams: every test sends a line through a tunnel with real `nc` at both ends, on
  `streams_tunnel` (a simulator and a tunnel per test) or on `streams_tunnel_shared`
  (one simulator per session, a fresh identity and tunnel per test);
- sdk: every test lists tunnels with globus-sdk over loopback, on `sim_server_env`
  (a server per test) or on `sim_tenant` (one server per session, an identity per test).
Rounds alternate the two variants so that the noise of a shared machine hits both alike;
the figures are medians, the function-scoped suite is the reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Figure, record  # benchmarks/report.py, beside this script

STREAMS_TEST = """
import subprocess

import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_hello_through_a_tunnel(n, {fixture}):
    t = {fixture}
    server = t.listen(["nc", "-l", str(t.listener_port)], stdout=subprocess.PIPE)
    client = t.connect(["nc", "-N", t.contact_host, str(t.contact_port)], stdin=subprocess.PIPE)
    client.communicate(b"hello %d" % n, timeout=30)
    assert server.communicate(timeout=30)[0] == b"hello %d" % n
"""

SDK_TEST = """
import globus_sdk
import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_list_tunnels(n, {fixture}):
    client_id = os.environ["GLOBUS_STREAMS_CLIENT_ID"]
    secret = os.environ["GLOBUS_STREAMS_CLIENT_SECRET"]
    auth = globus_sdk.ConfidentialAppAuthClient(client_id, secret)
    scopes = globus_sdk.TransferClient.scopes.all
    tc = globus_sdk.TransferClient(authorizer=globus_sdk.ClientCredentialsAuthorizer(auth, scopes))
    assert list(tc.list_tunnels()) == []
"""

SUITES = {
    "streams": (STREAMS_TEST, "streams_tunnel", "streams_tunnel_shared"),
    "sdk": ("import os\n" + SDK_TEST, "sim_server_env", "sim_tenant"),
}


def run_suite(directory: Path, source: str, fixture: str, tests: int) -> float:
    """Seconds of wall time for `pytest -q` over a suite of `tests` tests on `fixture`."""
    test_file = directory / f"test_{fixture}.py"
    test_file.write_text(source.format(tests=tests, fixture=fixture))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "ORBIT_SIM_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull]
    started = time.monotonic()
    result = subprocess.run(
        [*argv, "--rootdir", str(directory), str(test_file)],
        capture_output=True,
        text=True,
        cwd=directory,
        env=env,
        timeout=900,
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0 or f"{tests} passed" not in result.stdout:
        raise RuntimeError(f"the {fixture} suite failed:\n{result.stdout}{result.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tests", type=int, default=20)
    parser.add_argument("--only", choices=sorted(SUITES), default=None)
    args = parser.parse_args(argv)
    figures = []
    print(f"{'suite':8} {'function-scoped':>16} {'session-scoped':>15} {'ratio':>7}")
    for name, (source, per_test, shared) in SUITES.items():
        if args.only and name != args.only:
            continue
        times: dict[str, list[float]] = {per_test: [], shared: []}
        with tempfile.TemporaryDirectory(prefix="bench-fixtures-") as tmp:
            for round_index in range(args.rounds):
                order = [per_test, shared] if round_index % 2 == 0 else [shared, per_test]
                for fixture in order:
                    times[fixture].append(run_suite(Path(tmp), source, fixture, args.tests))
        slow, fast = statistics.median(times[per_test]), statistics.median(times[shared])
        print(f"{name:8} {slow:>15.1f}s {fast:>14.1f}s {slow / fast:>6.2f}x")
        print(f"         rounds: {per_test} {times[per_test]}, {shared} {times[shared]}")
        measure = f"{args.tests}-test {name} suite, {shared} (ref: {per_test} {slow:.1f} s)"
        figures.append(Figure("plugin", measure, f"{fast:.1f} s (speed-up {slow / fast:.2f}x)"))
    record(*figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
