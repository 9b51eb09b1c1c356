"""``orbit-globus-endpoint`` as a real process: URL file, plugin routes, clean exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from orbit_globus.endpoint.client import EndpointClient
from orbit_globus.endpoint.host import main
from orbit_globus.transfer import GlobusClient


def _wait_for(path, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text().strip()
        if proc.poll() is not None:
            raise AssertionError(f"host exited early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("no URL file")


def _start_host(url_file, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "orbit_globus.endpoint.host", "--url-file", url_file, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc):
    proc.terminate()
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_host_serves_until_signalled_and_exits_zero(tmp_path, signum):
    url_file = tmp_path / "run" / "endpoint.url"
    proc = _start_host(url_file, "--port", "0")
    try:
        url = _wait_for(url_file, proc)
        assert url.startswith("http://127.0.0.1:")
        with EndpointClient(url) as client:
            assert client.plugins() == ["globus"]
            globus = client.get_plugin("globus")
            assert isinstance(globus, GlobusClient)
            globus.register_session(access_token="unused")
            assert globus.session_id
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert url in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unknown_plugin_is_a_clear_error(endpoint_url):
    with EndpointClient(endpoint_url) as client, pytest.raises(ValueError, match="unknown plugin"):
        client.get_plugin("staging")


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--poll-interval", "0"])
    assert caught.value.code == 2
    assert "--poll-interval must be positive" in capsys.readouterr().err


def test_a_busy_port_is_a_one_line_error(capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("orbit-globus-endpoint: cannot listen on") and "\n" not in err


def test_host_process_runs_a_transfer_against_the_simulator(tmp_path, simenv):
    # the simulator's GLOBUS_SDK_* variables are in this process's environment: inherited
    proc = _start_host(tmp_path / "endpoint.url", "--poll-interval", "0.2")
    try:
        url = _wait_for(tmp_path / "endpoint.url", proc)
        with EndpointClient(url) as client:
            globus = client.get_plugin("globus")
            globus.register_session(access_token=simenv.user_tokens()["access_token"])
            submitted = simenv.copy(globus, "/home/share/godata/file1.txt", "/~/via-host.txt")
            simenv.control.advance(5)
            assert globus.task_wait(submitted["task_id"], timeout=20, polling_interval=0.1)
            assert globus.get_task(submitted["task_id"])["status"] == "SUCCEEDED"
    finally:
        _stop(proc)
    assert proc.returncode == 0
