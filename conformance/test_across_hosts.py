"""The two sides of a tunnel on machines of their own, as Globus Streams is used.

The simulator (`orbit-sim serve --host ADDR`) serves on a private address of the root
network namespace; the initiator side and the listener side each run in a network
namespace of their own, joined to the root namespace by a veth pair, so each reaches the
simulator's services and access points the way a second machine would, and the listener
access point reaches the listening program at that namespace's address. The sides run the
real CLI, the real launcher, nc and curl. Runs as root only: it creates the namespaces,
the veth pairs and their addresses, and removes them all afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.conftest import Output, need, sha256
from orbit_sim.control.client import SimControl
from orbit_sim.testing import Side, make_side, tls_files, tool

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 to create network namespaces",
)

NC = "nc.openbsd"
SERVICE_NAME = "data.orbit-sim.example"
SERVICE_PORT = 8443
LISTENER_PORT = 7000
PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL


@dataclass(frozen=True)
class Host:
    """A network namespace standing for a machine, and its address."""

    namespace: str
    address: str

    def argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]


@dataclass(frozen=True)
class Hosts:
    simulator: str  # an address of the root namespace
    initiator: Host
    listener: Host


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _join(namespace: str, outer: str, inner: str, prefix: str, first: int) -> Host:
    """A namespace (made already) joined to the root namespace by a veth pair in the /30
    at PREFIX.FIRST: the root side gets FIRST+1, the namespace FIRST+2 and a default route
    through the root side."""
    near, far = f"{prefix}.{first + 1}", f"{prefix}.{first + 2}"
    ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", namespace)
    ip("addr", "add", f"{near}/30", "dev", outer)
    ip("link", "set", outer, "up")
    inside = ["netns", "exec", namespace, "ip"]
    ip(*inside, "addr", "add", f"{far}/30", "dev", inner)
    ip(*inside, "link", "set", inner, "up")
    ip(*inside, "link", "set", "lo", "up")
    ip(*inside, "route", "add", "default", "via", near)
    return Host(namespace, far)


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    pid = os.getpid()
    # Private addresses and names of our own, distinct per process.
    prefix = f"10.{200 + pid % 50}.{pid // 50 % 250}"
    made: list[tuple[str, str]] = []  # (namespace, root-side veth)
    try:
        sides = []
        for role, first in (("i", 0), ("l", 4)):
            namespace, outer = f"orbit-{role}{pid}", f"o{role}{pid}"
            try:
                ip("netns", "add", namespace)
            except subprocess.CalledProcessError as err:
                pytest.skip(f"cannot create network namespaces here: {err.stderr.decode().strip()}")
            made.append((namespace, outer))
            sides.append(_join(namespace, outer, f"o{role}{pid}n", prefix, first))
        # The simulator's address: the initiator pair's root side. The listener's namespace
        # reaches it through its own pair (the root namespace answers for all its addresses).
        yield Hosts(f"{prefix}.1", *sides)
    finally:
        for namespace, outer in made:
            subprocess.run(["ip", "link", "del", outer], capture_output=True)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@pytest.fixture(scope="module")
def server_env(hosts: Hosts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`orbit-sim serve --host` on the root namespace's private address, as a real process."""
    env_file = tmp_path_factory.mktemp("server") / "orbit-sim.env"
    proc = subprocess.Popen(
        [tool("orbit-sim"), "serve", "--host", hosts.simulator, "--env-file", str(env_file)],
        stdout=DEVNULL,
        stderr=PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"orbit-sim serve did not start: {proc.stderr.read()!r}")
            time.sleep(0.05)
        env = {}
        for line in env_file.read_text().splitlines():
            key, _, value = shlex.split(line)[1].partition("=")
            env[key] = value
        yield env
    finally:
        proc.terminate()
        proc.wait(30)


@dataclass
class Tunnel:
    id: str
    initiator: Side
    listener: Side
    hosts: Hosts
    contact_port: int
    log_dir: Path

    def _launch(self, side: Side, host: Host, argv: Sequence[str], **popen) -> subprocess.Popen:
        log = self.log_dir / f"{side.name}.log"
        launcher = [tool("globus-streams-launch.sh"), "-d", "-l", str(log), self.id, *argv]
        return subprocess.Popen(host.argv(launcher), env=side.env, **popen)

    def listen(self, argv: Sequence[str], **popen) -> subprocess.Popen:
        proc = self._launch(self.listener, self.hosts.listener, argv, **popen)
        wait_listening_in(proc, LISTENER_PORT)
        return proc

    def connect(self, argv: Sequence[str], **popen) -> subprocess.Popen:
        return self._launch(self.initiator, self.hosts.initiator, argv, **popen)

    def debug_log(self) -> str:
        return "".join(p.read_text() for p in sorted(self.log_dir.glob("*.log")))


def cli(side: Side, host: Host, *args: str) -> str:
    """`globus-streams ARGS` on that side's machine."""
    result = subprocess.run(
        host.argv([tool("globus-streams"), *args]),
        env=side.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"globus-streams {' '.join(args)}: {result.stderr}"
    return result.stdout


def wait_listening_in(proc: subprocess.Popen, port: int, timeout: float = 15) -> None:
    """Until something LISTENs on `port` in `proc`'s namespace (its own /proc/PID/net view;
    connecting would use up a one-shot `nc -l`)."""
    wanted = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the listening program exited with {proc.returncode}")
        rows = Path(f"/proc/{proc.pid}/net/tcp").read_text().splitlines()[1:]
        if any(r.split()[1].endswith(wanted) and r.split()[3] == "0A" for r in rows):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@pytest.fixture
def tunnel(hosts: Hosts, server_env: dict[str, str], tmp_path: Path) -> Tunnel:
    """A tunnel created and initialized by the real CLI, each side on its own machine."""
    initiator = make_side("initiator", tmp_path, server_env)
    listener = make_side("listener", tmp_path, server_env)
    aps = server_env["ORBIT_SIM_INITIATOR_AP"], server_env["ORBIT_SIM_LISTENER_AP"]
    tunnel_id = cli(initiator, hosts.initiator, "tunnel", "create", *aps).strip()
    contact = f"{hosts.listener.address}:{LISTENER_PORT}"
    cli(listener, hosts.listener, "environment", "initialize", tunnel_id,
        "--listener-contact-string", contact)  # fmt: skip
    out = cli(initiator, hosts.initiator, "environment", "initialize", tunnel_id,
              "--globus-contact", f"{SERVICE_NAME}:{SERVICE_PORT}")  # fmt: skip
    line = next(line for line in out.splitlines() if "contact string is" in line)
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    return Tunnel(tunnel_id, initiator, listener, hosts, int(line.rsplit(":", 1)[1]), log_dir)


def nc_across(t: Tunnel, payload: bytes, procs: list) -> bytes:
    """Send `payload` with nc on the initiator's machine to `nc -l` on the listener's."""
    server = t.listen(
        [NC, "-l", t.hosts.listener.address, str(LISTENER_PORT)], stdout=PIPE, stdin=DEVNULL
    )
    received = Output(server)
    client = t.connect([NC, "-N", f"globus.{t.id}", str(t.contact_port)], stdin=PIPE)
    procs += [server, client]
    Output(client, payload).result()
    assert client.returncode == 0, t.debug_log()
    return received.result()


def test_nc_between_two_machines(tunnel: Tunnel, payload: bytes, procs: list) -> None:
    need(NC)
    assert sha256(nc_across(tunnel, payload, procs)) == sha256(payload), tunnel.debug_log()


def test_curl_https_between_two_machines(
    tunnel: Tunnel, payload: bytes, procs: list, tmp_path: Path
) -> None:
    need("curl")
    site = tmp_path / "site"
    site.mkdir()
    (site / "data.bin").write_bytes(payload)
    tls = tls_files(tmp_path, SERVICE_NAME)
    address = f"{tunnel.hosts.listener.address}:{LISTENER_PORT}"
    serve = [tool("python"), "-m", "orbit_sim.file_server", address]
    procs.append(tunnel.listen([*serve, str(site), str(tls.cert), str(tls.key)], stderr=DEVNULL))
    url = f"https://{SERVICE_NAME}:{SERVICE_PORT}/data.bin"
    curl = tunnel.connect(
        ["curl", "-sS", "--max-time", "60", "--cacert", str(tls.ca), url], stdout=PIPE, stderr=PIPE
    )
    procs.append(curl)
    out, err = curl.communicate(timeout=90)
    assert curl.returncode == 0, err.decode() + tunnel.debug_log()
    assert sha256(out) == sha256(payload)


def test_nc_between_two_machines_with_latency_on_the_wan_leg(
    tunnel: Tunnel, server_env: dict[str, str], payload: bytes, procs: list
) -> None:
    need(NC)
    control = SimControl(server_env["ORBIT_SIM_URL"])
    fault = control.add_fault("latency:leg=2,ms=50")
    try:
        assert [f["id"] for f in control.list_faults()] == [fault["id"]]
        assert sha256(nc_across(tunnel, payload, procs)) == sha256(payload), tunnel.debug_log()
    finally:
        control.remove_fault(fault["id"])
