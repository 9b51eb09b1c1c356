"""pytest fixtures for suites that test against the simulator (SPEC 5.5).

Installed as a pytest11 plugin, so any suite in an environment with orbit-globus has them.
Each fixture's docstring carries a runnable example; the README's pytest-plugin section
repeats them and a test runs them.

A fresh simulator per test (function scope):

- `sim` -- an in-process `Simulator` (virtual clock, default world) that unmodified
  globus-sdk clients reach with their default URLs; `--orbit-sim-server` (or
  `ORBIT_SIM_TEST_SERVER=1`) serves the same tests on loopback instead.
- `sim_server` -- a `Simulator` served on loopback; the value is its `ServerHandle`
  (`.env` for subprocesses, `.sim` the model, `.control()` a client of its control API).
- `sim_server_env` -- `sim_server` with its `.env` set in this process's environment.
- `streams_server` -- a simulator with real stream access points on loopback.
- `streams_tunnel` -- a tunnel on `streams_server`, both sides initialized by the real CLI.

One server for the whole session, a fresh identity per test (for speed):

- `sim_server_shared`, `streams_server_shared` -- session-scoped servers.
- `sim_tenant` -- a new identity on `sim_server_shared`, its env set for this test.
- `streams_tunnel_shared` -- a new identity and tunnel on `streams_server_shared`.

Also: `sim_retry_sleeps`, the retry sleeps globus-sdk took on the simulator's clock.

Guarantees, whatever the fixture:

- Every program a fixture starts (`streams_tunnel.listen()`, `.connect()`, the CLI) runs
  in a process group of its own, killed group-wide at teardown, also when the test fails
  or is interrupted; if pytest itself dies, a reaper process kills the groups.
- Fixtures that point globus-sdk somewhere (`sim`, `sim_server_env`, `sim_tenant`) first
  clear every `GLOBUS_SDK_*` variable of the caller's environment, and restore them after.
- Every call globus-sdk makes to the simulator is recorded in `responses.calls`, so
  `globus_sdk.testing.get_last_request()` returns the last one.
- globus-sdk's retry sleeps (backoff, `Retry-After`) pass on the simulator's virtual clock
  instead of wall time (`--orbit-sim-retry-sleeps=real` or the ini option
  `orbit_sim_retry_sleeps = real` turns this off).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from orbit_sim.core.simulator import Simulator
    from orbit_sim.server import ServerHandle
    from orbit_sim.testing import StreamsTunnel, Tenant


SERVER_MODE_ENV = "ORBIT_SIM_TEST_SERVER"
SDK_ENV_PREFIX = "GLOBUS_SDK_"
RETRY_SLEEPS_OPTION = "orbit_sim_retry_sleeps"
_retry_record = pytest.StashKey[list[float]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orbit-sim")
    group.addoption(
        "--orbit-sim-server",
        action="store_true",
        help="serve the `sim` fixture on loopback instead of in-process (server mode)",
    )
    group.addoption(
        "--orbit-sim-retry-sleeps",
        choices=("virtual", "real"),
        default=None,
        help="where globus-sdk's retry sleeps pass: the simulator's clock (default) or wall time",
    )
    parser.addini(
        RETRY_SLEEPS_OPTION,
        "where globus-sdk's retry sleeps pass in orbit-sim fixtures: virtual or real",
        default="virtual",
    )


def pytest_configure(config: pytest.Config) -> None:
    value = config.getini(RETRY_SLEEPS_OPTION)
    if value not in ("virtual", "real"):
        raise pytest.UsageError(f"{RETRY_SLEEPS_OPTION} must be 'virtual' or 'real', not {value!r}")


def _server_mode(config: pytest.Config) -> bool:
    flag = os.environ.get(SERVER_MODE_ENV, "").lower() in ("1", "true", "yes")
    return flag or bool(config.getoption("--orbit-sim-server", default=False))


def _virtual_retry_sleeps(config: pytest.Config) -> bool:
    choice = config.getoption("--orbit-sim-retry-sleeps", default=None)
    return (choice or config.getini(RETRY_SLEEPS_OPTION)) != "real"


def _use_env(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """Only `env` decides where globus-sdk goes: a GLOBUS_SDK_SERVICE_URL_* left in the
    caller's environment (say, for another running simulator) would bypass the fixture."""
    for key in list(os.environ):
        if key.startswith(SDK_ENV_PREFIX):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def _sdk_hooks(
    stack: contextlib.ExitStack, request: pytest.FixtureRequest, simulator: Simulator
) -> None:
    """Retry sleeps on the simulator's clock, and the request log cleared at teardown."""
    import responses

    from orbit_sim.sdk_retries import retry_sleeps_on

    stack.callback(responses.calls.reset)
    if _virtual_retry_sleeps(request.config):
        record = request.node.stash.setdefault(_retry_record, [])
        stack.enter_context(retry_sleeps_on(simulator.clock, record))


# -- a fresh simulator per test -------------------------------------------------------------


@pytest.fixture
def sim(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A Simulator (virtual clock) that globus-sdk reaches through `responses`, or in
    server mode through the loopback server. Example::

        import globus_sdk
        from globus_sdk.testing import get_last_request

        def test_list_tunnels(sim):
            auth = globus_sdk.ConfidentialAppAuthClient(
                sim.world.client_id, sim.world.client_secret
            )
            authorizer = globus_sdk.ClientCredentialsAuthorizer(
                auth, globus_sdk.TransferClient.scopes.all
            )
            tc = globus_sdk.TransferClient(authorizer=authorizer)
            assert list(tc.list_tunnels()) == []
            assert get_last_request().url.endswith("/v2/tunnels")
    """
    from orbit_sim import Simulator, mock_globus, serve
    from orbit_sim.inprocess import record_loopback_calls

    with contextlib.ExitStack() as stack:
        simulator = Simulator("virtual")
        stack.callback(simulator.close)
        if _server_mode(request.config):
            handle = serve(simulator)
            stack.callback(handle.stop)
            _use_env(monkeypatch, handle.env)
            stack.enter_context(record_loopback_calls())
        else:
            _use_env(monkeypatch, {})
            stack.enter_context(mock_globus(simulator, keep_calls=True))
        _sdk_hooks(stack, request, simulator)
        yield simulator


@pytest.fixture
def sim_server() -> Iterator[ServerHandle]:
    """A Simulator (virtual clock) on a loopback server; the value is its ServerHandle.
    Example::

        import os
        import subprocess

        def test_cli_against_the_server(sim_server):
            listed = subprocess.run(
                ["globus-streams", "tunnel", "list"],
                env=os.environ | sim_server.env,
                capture_output=True,
                text=True,
            )
            assert listed.returncode == 0, listed.stderr
    """
    from orbit_sim import Simulator, serve

    simulator = Simulator("virtual")
    handle = serve(simulator)
    try:
        yield handle
    finally:
        handle.stop()
        simulator.close()


@pytest.fixture
def sim_server_env(
    sim_server: ServerHandle, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerHandle]:
    """`sim_server` with its env variables set in os.environ for this test. Example::

    import globus_sdk

    def test_sdk_over_loopback(sim_server_env):
        world = sim_server_env.sim.world
        auth = globus_sdk.ConfidentialAppAuthClient(world.client_id, world.client_secret)
        tokens = auth.oauth2_client_credentials_tokens(globus_sdk.TransferClient.scopes.all)
        assert "transfer.api.globus.org" in tokens.by_resource_server
    """
    from orbit_sim.inprocess import record_loopback_calls

    _use_env(monkeypatch, sim_server.env)
    with contextlib.ExitStack() as stack:
        stack.enter_context(record_loopback_calls())
        _sdk_hooks(stack, request, sim_server.sim)
        yield sim_server


@pytest.fixture
def streams_server() -> Iterator[ServerHandle]:
    """A Simulator with real stream access points (GSLA LAN legs, TLS WAN leg) on loopback.
    Example::

        def test_a_fault_on_the_wan_leg(streams_server):
            fault = streams_server.sim.add_fault("latency:ms=50")
            assert fault in streams_server.sim.list_faults()
            # then orbit_sim.testing.open_tunnel(streams_server, tmp_path) and real programs
    """
    from orbit_sim.testing import running_simulator

    with running_simulator() as handle:
        yield handle


@pytest.fixture
def streams_tunnel(
    streams_server: ServerHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamsTunnel]:
    """A tunnel initialized on two isolated sides by the real CLI (`orbit_sim.testing`).

    `listen(argv)` starts the listening program under the launcher on the listener side
    (waiting until it listens on `listener_port`); `connect(argv)` starts the initiator,
    which reaches it through `contact_host`:`contact_port`. Both return the Popen; every
    program still running at teardown is killed with its whole process group. Example::

        import subprocess

        def test_hello_through_a_tunnel(streams_tunnel):
            t = streams_tunnel
            server = t.listen(["nc", "-l", str(t.listener_port)], stdout=subprocess.PIPE)
            client = t.connect(
                ["nc", "-N", t.contact_host, str(t.contact_port)], stdin=subprocess.PIPE
            )
            client.communicate(b"hello", timeout=30)
            assert server.communicate(timeout=30)[0] == b"hello"
    """
    from orbit_sim.testing import open_tunnel

    with open_tunnel(streams_server, tmp_path_factory.mktemp("tunnel")) as tunnel:
        yield tunnel


# -- one server per session, a fresh identity per test ----------------------------------------


@pytest.fixture(scope="session")
def sim_server_shared() -> Iterator[ServerHandle]:
    """One loopback simulator for the whole session (virtual clock). Use it through
    `sim_tenant`, which isolates each test; the clock and the default world are shared.
    Example::

        def test_the_shared_server_answers(sim_server_shared):
            assert sim_server_shared.base_url.startswith("http://127.0.0.1:")
    """
    from orbit_sim import Simulator, serve

    simulator = Simulator("virtual")
    handle = serve(simulator)
    try:
        yield handle
    finally:
        handle.stop()
        simulator.close()


@pytest.fixture(scope="session")
def streams_server_shared() -> Iterator[ServerHandle]:
    """One simulator with stream access points for the whole session; use it through
    `streams_tunnel_shared`. Example::

        def test_the_shared_access_points(streams_server_shared):
            assert streams_server_shared.env["ORBIT_SIM_LISTENER_AP"]
    """
    from orbit_sim.testing import running_simulator

    with running_simulator() as handle:
        yield handle


@pytest.fixture
def sim_tenant(
    sim_server_shared: ServerHandle,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Tenant]:
    """A fresh identity on `sim_server_shared`, with the server's env (and this identity's
    `GLOBUS_STREAMS_CLIENT_ID`/`_SECRET`) set for the test. Other tests' tunnels are not
    visible to it; faults it adds are removed and its tunnels stopped at teardown. Example::

        import globus_sdk

        def test_isolated(sim_tenant):
            auth = globus_sdk.ConfidentialAppAuthClient(  # the env points at the server
                sim_tenant.client_id, sim_tenant.client_secret
            )
            authorizer = globus_sdk.ClientCredentialsAuthorizer(
                auth, globus_sdk.TransferClient.scopes.all
            )
            tc = globus_sdk.TransferClient(authorizer=authorizer)
            assert list(tc.list_tunnels()) == []   # whatever earlier tests created
            sim_tenant.create_tunnel()             # or sim_tenant.transfer_client()
            assert len(list(tc.list_tunnels())) == 1
    """
    from orbit_sim.inprocess import record_loopback_calls
    from orbit_sim.testing import tenant_on

    with contextlib.ExitStack() as stack:
        tenant = stack.enter_context(tenant_on(sim_server_shared))
        _use_env(monkeypatch, tenant.env)
        stack.enter_context(record_loopback_calls())
        _sdk_hooks(stack, request, sim_server_shared.sim)
        yield tenant


@pytest.fixture
def streams_tunnel_shared(
    streams_server_shared: ServerHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamsTunnel]:
    """Like `streams_tunnel`, on the session's `streams_server_shared`: a fresh identity
    creates a fresh tunnel for each test, and teardown kills the test's programs and stops
    the tunnel. Example::

        import subprocess

        def test_fast_tunnel(streams_tunnel_shared):
            t = streams_tunnel_shared
            server = t.listen(["nc", "-l", str(t.listener_port)], stdout=subprocess.PIPE)
            client = t.connect(
                ["nc", "-N", t.contact_host, str(t.contact_port)], stdin=subprocess.PIPE
            )
            client.communicate(b"hello", timeout=30)
            assert server.communicate(timeout=30)[0] == b"hello"
    """
    from orbit_sim.testing import free_port, open_tunnel, tenant_on

    root = tmp_path_factory.mktemp("tunnel")
    port = free_port()
    with tenant_on(streams_server_shared) as tenant:
        # Created through the API in this process with its listener contact, the tunnel
        # needs one CLI process fewer, and both sides initialize at once.
        tunnel_id = tenant.create_tunnel(listener_port=port)
        with open_tunnel(
            streams_server_shared, root, env=tenant.env, tunnel_id=tunnel_id, listener_port=port
        ) as tunnel:
            yield tunnel


@pytest.fixture
def sim_retry_sleeps(request: pytest.FixtureRequest) -> list[float]:
    """The retry sleeps (seconds) globus-sdk took on the simulator's virtual clock in this
    test, in order; use it with `sim`, `sim_server_env` or `sim_tenant`. Example::

        import globus_sdk

        def test_two_503s_then_success(sim, sim_retry_sleeps):
            sim.add_fault("http:route=list_tunnels,status=503,count=2,retry_after=30")
            auth = globus_sdk.ConfidentialAppAuthClient(
                sim.world.client_id, sim.world.client_secret
            )
            authorizer = globus_sdk.ClientCredentialsAuthorizer(
                auth, globus_sdk.TransferClient.scopes.all
            )
            before = sim.clock.now()
            assert list(globus_sdk.TransferClient(authorizer=authorizer).list_tunnels()) == []
            assert sim_retry_sleeps == [10.0, 10.0]   # Retry-After, capped at max_sleep
            assert sim.clock.now() >= before + 20
    """
    if not _virtual_retry_sleeps(request.config):
        pytest.fail("sim_retry_sleeps: retry sleeps are real here (orbit_sim_retry_sleeps)")
    return request.node.stash.setdefault(_retry_record, [])
