"""The plugin's fixtures as a user's suite uses them (pytester runs the user's files):
foreign GLOBUS_SDK_* variables, a session server shared by 50 isolated tests, the request
log behind get_last_request(), and 503 retries on the virtual clock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import globus_sdk.services.transfer
import globus_sdk.testing
import globus_sdk.transport
import pytest

import orbit_sim.sdk_retries
import orbit_sim.testing
from orbit_sim.server import ServerHandle

pytest_plugins = ["pytester"]

# pytester's in-process runs forget modules first imported inside them; imported here once,
# globus-sdk's classes and sentinels stay the same objects across the user's runs.
_KEEP_IMPORTED = (globus_sdk.services.transfer, globus_sdk.testing, globus_sdk.transport)
_KEEP_IMPORTED_SIM = (orbit_sim.sdk_retries, orbit_sim.testing)

MODES = [pytest.param([], id="inprocess"), pytest.param(["--orbit-sim-server"], id="server")]

CLIENTS = """
import globus_sdk


def transfer_client(client_id, client_secret):
    auth = globus_sdk.ConfidentialAppAuthClient(client_id, client_secret)
    authorizer = globus_sdk.ClientCredentialsAuthorizer(auth, globus_sdk.TransferClient.scopes.all)
    return globus_sdk.TransferClient(authorizer=authorizer)
"""


@pytest.fixture
def user_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project: a helper module, and no variables of this suite's own run."""
    for key in list(os.environ):
        if key.startswith(("GLOBUS_SDK_", "ORBIT_SIM_")):
            monkeypatch.delenv(key)
    pytester.makepyfile(clients=CLIENTS)
    pytester.syspathinsert()
    return pytester


@pytest.mark.parametrize("mode", MODES)
def test_sim_answers_with_a_foreign_simulator_in_the_environment(
    user_suite: pytest.Pytester,
    sim_server: ServerHandle,
    monkeypatch: pytest.MonkeyPatch,
    mode: list[str],
) -> None:
    # Another running simulator's variables, as `source orbit-sim.env` leaves them.
    foreign = sim_server.env | {"GLOBUS_SDK_ENVIRONMENT": "sandbox"}
    for key, value in foreign.items():
        monkeypatch.setenv(key, value)
    user_suite.makepyfile(
        f"""
        import os
        from globus_sdk.testing import get_last_request
        from clients import transfer_client

        def test_user(sim):
            assert "GLOBUS_SDK_ENVIRONMENT" not in os.environ
            tc = transfer_client(sim.world.client_id, sim.world.client_secret)
            assert list(tc.list_tunnels()) == []  # the foreign server would answer 401
            url = get_last_request().url
            assert not url.startswith({sim_server.base_url!r})
            assert url.startswith(("https://transfer.api.globus.org/", "http://127.0.0.1:"))
        """
    )
    user_suite.runpytest(*mode).assert_outcomes(passed=1)
    for key, value in foreign.items():  # restored after the test
        assert os.environ[key] == value


def test_one_session_server_serves_50_isolated_tests(
    user_suite: pytest.Pytester, tmp_path: Path
) -> None:
    seen = tmp_path / "seen.jsonl"
    user_suite.makepyfile(
        f"""
        import json
        import pytest
        from clients import transfer_client

        @pytest.mark.parametrize("n", range(50))
        def test_tenant(n, sim_tenant, sim_server_shared):
            tc = transfer_client(sim_tenant.client_id, sim_tenant.client_secret)
            # What earlier tests left on the shared server is not visible here:
            assert list(tc.list_tunnels()) == []
            assert sim_tenant.sim.list_faults() == []
            tunnel_id = sim_tenant.create_tunnel()
            assert [t["id"] for t in tc.list_tunnels()] == [tunnel_id]
            sim_tenant.sim.add_fault("http:route=get_tunnel,status=500,count=0")
            with open({str(seen)!r}, "a") as out:
                out.write(json.dumps([sim_server_shared.base_url, sim_tenant.client_id, tunnel_id]))
                out.write("\\n")
        """
    )
    user_suite.runpytest("-p", "no:randomly").assert_outcomes(passed=50)
    rows = [json.loads(line) for line in seen.read_text().splitlines()]
    assert len(rows) == 50
    assert len({server for server, _, _ in rows}) == 1  # one server for the session
    assert len({client for _, client, _ in rows}) == 50  # a fresh identity per test
    assert len({tunnel for _, _, tunnel in rows}) == 50


@pytest.mark.parametrize("mode", MODES)
def test_get_last_request_sees_the_last_call(user_suite: pytest.Pytester, mode: list[str]) -> None:
    user_suite.makepyfile(
        """
        from globus_sdk.testing import get_last_request
        from clients import transfer_client

        def test_calls_are_recorded(sim):
            assert get_last_request() is None
            tc = transfer_client(sim.world.client_id, sim.world.client_secret)
            collection = sim.world.collections[0]
            tc.get_endpoint(collection)
            last = get_last_request()
            assert last.method == "GET"
            assert last.url.endswith(f"/endpoint/{collection}")
            assert last.headers["Authorization"].startswith("Bearer ")

        def test_the_next_test_starts_with_an_empty_log(sim):
            assert get_last_request() is None

        def test_shared_server_calls_are_recorded(sim_tenant):
            sim_tenant.create_tunnel()
            assert get_last_request().method == "POST"
            assert get_last_request().url.endswith("/tunnels")
        """
    )
    user_suite.runpytest(*mode).assert_outcomes(passed=3)


@pytest.mark.parametrize("mode", MODES)
def test_503_retries_sleep_on_the_virtual_clock(
    user_suite: pytest.Pytester, mode: list[str]
) -> None:
    user_suite.makepyfile(
        """
        import responses
        from clients import transfer_client

        def test_two_503s_then_success(sim, sim_retry_sleeps):
            sim.add_fault("http:route=list_tunnels,status=503,count=2,retry_after=7")
            tc = transfer_client(sim.world.client_id, sim.world.client_secret)
            before = sim.clock.now()
            assert list(tc.list_tunnels()) == []
            # globus-sdk honoured Retry-After twice, and both sleeps went to the clock
            assert sim_retry_sleeps == [7.0, 7.0]
            assert sim.clock.now() - before >= 14.0
            tunnels = [c for c in responses.calls if "tunnels" in c.request.url]
            assert [c.response.status_code for c in tunnels] == [503, 503, 200]
        """
    )
    user_suite.runpytest(*mode).assert_outcomes(passed=1)


def test_real_retry_sleeps_can_be_chosen(user_suite: pytest.Pytester) -> None:
    user_suite.makepyfile(
        """
        def test_asks_for_the_record(sim, sim_retry_sleeps):
            pass
        """
    )
    result = user_suite.runpytest("--orbit-sim-retry-sleeps=real")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*retry sleeps are real here*"])


def test_a_bad_retry_sleeps_setting_is_one_clear_line(user_suite: pytest.Pytester) -> None:
    user_suite.makeini("[pytest]\norbit_sim_retry_sleeps = sometimes\n")
    result = user_suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*orbit_sim_retry_sleeps must be 'virtual' or 'real'*"])
    assert "Traceback" not in result.stderr.str()
