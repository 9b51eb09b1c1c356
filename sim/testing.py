"""Run real programs through simulated Globus Streams tunnels (SPEC 5.5).

The pieces a test needs, without pytest: a running simulator with its stream gateway, a
tunnel initialized on two isolated "machines" (each its own HOME and conf directory) by the
real `globus-streams` CLI, and programs started on either side through the real
`globus-streams-launch.sh`::

    with running_simulator() as server:
        tunnel = open_tunnel(server, tmp_path)
        server_proc = tunnel.listen(["nc", "-l", str(tunnel.listener_port)])
        client_proc = tunnel.connect(["nc", "-N", tunnel.contact_host, str(tunnel.contact_port)])

Every program starts in a process group of its own; `tunnel.close()` (or leaving
`with open_tunnel(...) as tunnel:`) kills each group, whatever the programs started.
The pytest plugin wraps these as fixtures (`streams_server`, `streams_tunnel`, ...).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orbit_globus.streams import TunnelConf
from orbit_sim.process_groups import ProcessGroups
from orbit_sim.server import ServerHandle
from orbit_sim.stack import running_simulator

if TYPE_CHECKING:
    import globus_sdk

    from orbit_sim.core.simulator import Simulator

__all__ = [
    "ProcessGroups",
    "Side",
    "StreamsTunnel",
    "Tenant",
    "TlsFiles",
    "file_server_argv",
    "free_port",
    "open_tunnel",
    "running_simulator",
    "tenant_on",
    "tls_files",
    "wait_listening",
]

# Variables of the caller's own environment that would send a side elsewhere.
_FOREIGN_PREFIXES = ("GLOBUS_SDK_", "GLOBUS_STREAMS_", "ORBIT_SIM_", "LD_PRELOAD")


def tool(name: str) -> str:
    """An executable installed beside this Python (the venv's bin), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed")
    return found


@dataclass
class Side:
    """One machine of a tunnel: its own HOME, conf directory and environment."""

    name: str
    home: Path
    env: dict[str, str] = field(repr=False)
    processes: ProcessGroups = field(default_factory=ProcessGroups, repr=False)

    @property
    def conf_dir(self) -> Path:
        return Path(self.env["GLOBUS_STREAMS_DIR"])

    def conf(self, tunnel_id: str) -> TunnelConf:
        """This side's conf file for the tunnel, as the CLI wrote it."""
        return TunnelConf.load(tunnel_id, self.conf_dir)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `globus-streams ARGS` on this side."""
        result = self.processes.run([tool("globus-streams"), *args], env=self.env, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"globus-streams {' '.join(args)}: {result.stderr.strip()}")
        return result

    def launch(
        self,
        tunnel_id: str,
        argv: Sequence[str],
        *,
        debug_log: Path | None = None,
        port: int | None = None,
        **popen: Any,
    ) -> subprocess.Popen[bytes]:
        """Start ARGV under `globus-streams-launch.sh TUNNEL_ID` on this side, in a process
        group of its own that `processes.kill_all()` ends."""
        options: list[str] = []
        if debug_log is not None:
            options += ["-d", "-l", str(debug_log)]
        if port is not None:
            options += ["-p", str(port)]
        command = [tool("globus-streams-launch.sh"), *options, tunnel_id, *argv]
        return self.processes.spawn(command, env=popen.pop("env", self.env), **popen)


def make_side(
    name: str, root: Path, server_env: Mapping[str, str], processes: ProcessGroups | None = None
) -> Side:
    home = root / name
    (home / ".globus").mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
    env.update(server_env)
    env["HOME"] = str(home)
    env["GLOBUS_STREAMS_DIR"] = str(home / ".globus" / "streams")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Side(name, home, env, processes or ProcessGroups())


@dataclass
class StreamsTunnel:
    """A tunnel initialized on both sides; `listen()` and `connect()` start programs,
    `close()` kills them (each in its own process group)."""

    id: str
    server: ServerHandle
    listener: Side
    initiator: Side
    listener_port: int
    contact_port: int
    log_dir: Path

    @property
    def contact_host(self) -> str:
        """The generated contact name, `globus.<tunnel_id>`."""
        return f"globus.{self.id}"

    def listen(self, argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
        """Start the listening program and wait until it listens on `listener_port`."""
        proc = self.listener.launch(self.id, argv, debug_log=self.log_dir / "listener.log", **popen)
        wait_listening(self.listener_port, proc)
        return proc

    def connect(self, argv: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
        """Start the initiating program on the other side."""
        return self.initiator.launch(
            self.id, argv, debug_log=self.log_dir / "initiator.log", **popen
        )

    def debug_log(self, side: str) -> str:
        path = self.log_dir / f"{side}.log"
        return path.read_text() if path.exists() else ""

    @property
    def processes(self) -> ProcessGroups:
        """The programs started on either side (both sides share one record)."""
        return self.listener.processes

    def close(self) -> None:
        """Kill every program started through this tunnel, and whatever they started."""
        self.processes.kill_all()

    def __enter__(self) -> StreamsTunnel:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_tunnel(
    server: ServerHandle,
    root: Path,
    *,
    listener_port: int | None = None,
    globus_contacts: Sequence[str] = (),
    lifetime_mins: int = 60,
    restartable: bool = True,
    cs_ttl: int | None = None,
    env: Mapping[str, str] | None = None,
    tunnel_id: str | None = None,
) -> StreamsTunnel:
    """Create a tunnel and initialize both sides with the real CLI, as the User Guide does.

    `env` replaces `server.env` for both sides (e.g. another identity's client id/secret).
    With `tunnel_id`, that existing tunnel, created with its listener contact already at
    127.0.0.1:`listener_port` (`Tenant.create_tunnel(listener_port=...)`), is initialized
    instead: both sides at once, the listener side with `--listener`.
    """
    if tunnel_id is not None and listener_port is None:
        raise ValueError("open_tunnel(tunnel_id=...) needs the tunnel's listener_port")
    server_env = server.env if env is None else env
    processes = ProcessGroups()
    listener = make_side("listener", root, server_env, processes)
    initiator = make_side("initiator", root, server_env, processes)
    port = listener_port or free_port()
    options = [arg for name in globus_contacts for arg in ("--globus-contact", name)]
    if cs_ttl is not None:
        options += ["--cs-ttl", str(cs_ttl)]
    if tunnel_id is None:
        create = ["tunnel", "create", server_env["ORBIT_SIM_INITIATOR_AP"]]
        create += [server_env["ORBIT_SIM_LISTENER_AP"], "--lifetime-mins", str(lifetime_mins)]
        if restartable:
            create.append("--restartable")
        tunnel_id = initiator.cli(*create).stdout.strip()
        contact = f"127.0.0.1:{port}"
        listener.cli("environment", "initialize", tunnel_id, "--listener-contact-string", contact)
        out = initiator.cli("environment", "initialize", tunnel_id, *options).stdout
    else:
        # The tunnel is ACTIVE already: neither side waits for the other.
        with ThreadPoolExecutor(max_workers=1) as pool:
            listening = pool.submit(
                listener.cli, "environment", "initialize", tunnel_id, "--listener"
            )
            out = initiator.cli("environment", "initialize", tunnel_id, *options).stdout
            listening.result()
    contact = next(line for line in out.splitlines() if "contact string is" in line)
    log_dir = root / "logs"
    log_dir.mkdir(exist_ok=True)
    return StreamsTunnel(
        id=tunnel_id,
        server=server,
        listener=listener,
        initiator=initiator,
        listener_port=port,
        contact_port=int(contact.rsplit(":", 1)[1]),
        log_dir=log_dir,
    )


@dataclass
class Tenant:
    """A fresh identity (confidential client) on a server that many tests share.

    Its tunnels, secrets and tasks are invisible to other identities (SPEC 5.1 ownership),
    so tests on one server do not see each other's state. `env` is the server's env with
    this identity's client id and secret, for subprocesses and globus-sdk clients.
    """

    server: ServerHandle
    client_id: str
    client_secret: str = field(repr=False)

    @property
    def sim(self) -> Simulator:
        return self.server.sim

    @property
    def identity_id(self) -> str:
        return self.client_id  # a confidential client is its own identity

    @property
    def env(self) -> dict[str, str]:
        return self.server.env | {
            "GLOBUS_STREAMS_CLIENT_ID": self.client_id,
            "GLOBUS_STREAMS_CLIENT_SECRET": self.client_secret,
        }

    def auth_client(self) -> globus_sdk.ConfidentialAppAuthClient:
        """A globus-sdk Auth client for this identity, talking to the server."""
        import globus_sdk

        return globus_sdk.ConfidentialAppAuthClient(
            self.client_id, self.client_secret, base_url=self.server.auth_url
        )

    def transfer_client(self) -> globus_sdk.TransferClient:
        """A globus-sdk Transfer client acting as this identity, talking to the server."""
        import globus_sdk

        scopes = globus_sdk.TransferClient.scopes.all
        authorizer = globus_sdk.ClientCredentialsAuthorizer(self.auth_client(), scopes)
        return globus_sdk.TransferClient(authorizer=authorizer, base_url=self.server.transfer_url)

    def create_tunnel(
        self,
        *,
        lifetime_mins: int = 60,
        restartable: bool = True,
        listener_port: int | None = None,
    ) -> str:
        """A new tunnel between the server's two access points, owned by this identity,
        created through the Transfer API (no CLI process); returns its id. With
        `listener_port`, its listener contact is 127.0.0.1:`listener_port` from the start
        (the tunnel is ACTIVE at once)."""
        from globus_sdk.services.transfer import CreateTunnelData

        env = self.server.env
        contact = None
        if listener_port is not None:
            contact = {"listener_ip_address": "127.0.0.1", "listener_port": listener_port}
        data = CreateTunnelData(
            env["ORBIT_SIM_INITIATOR_AP"],
            env["ORBIT_SIM_LISTENER_AP"],
            lifetime_mins=lifetime_mins,
            restartable=restartable,
            additional_fields=contact,
        )
        return str(self.transfer_client().create_tunnel(data)["data"]["id"])


@contextlib.contextmanager
def tenant_on(server: ServerHandle, name: str = "orbit-sim test tenant") -> Iterator[Tenant]:
    """A new identity on `server`; on exit its live tunnels stop and the faults added
    meanwhile are removed, so the next test finds the shared server as before."""
    sim = server.sim
    created = sim.create_client(name)
    faults_before = {fault.id for fault in sim.list_faults()}
    try:
        yield Tenant(server, created["client_id"], created["client_secret"])
    finally:
        for fault in sim.list_faults():
            if fault.id not in faults_before:
                sim.remove_fault(fault.id)
        with sim.lock:
            owned = [t.id for t in sim.transfer.list_tunnels(created["identity_id"])]
        for tunnel_id in owned:
            sim.stop_tunnel(tunnel_id)  # idempotent for tunnels already stopped


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS server and its clients: certificate, private key, CA."""

    cert: Path
    key: Path
    ca: Path


def tls_files(directory: Path, hostname: str) -> TlsFiles:
    """A fresh trustme CA and a certificate for `hostname`, written into `directory`."""
    import trustme

    ca = trustme.CA()
    issued = ca.issue_cert(hostname)
    files = TlsFiles(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    issued.cert_chain_pems[0].write_to_path(str(files.cert))
    issued.private_key_pem.write_to_path(str(files.key))
    ca.cert_pem.write_to_path(str(files.ca))
    return files


def file_server_argv(port: int, directory: Path, tls: TlsFiles | None = None) -> list[str]:
    """The command that serves `directory` on 127.0.0.1:`port` (HTTPS when `tls` is given)."""
    argv = [sys.executable, "-m", "orbit_sim.file_server", str(port), str(directory)]
    return argv + [str(tls.cert), str(tls.key)] if tls else argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(
    port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 10.0
) -> None:
    """Wait until some socket LISTENs on `port`, without connecting to it.

    Connecting would use up a one-shot server such as `nc -l`; the kernel's socket tables
    tell the same without touching the program.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _listening(port):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the listening program exited with {proc.returncode}")
        time.sleep(0.01)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def _listening(port: int) -> bool:
    wanted = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in lines:
                fields = line.split()
                # fields: sl, local_address, rem_address, st (0A = LISTEN), ...
                if len(fields) > 3 and (fields[1] + " ").endswith(wanted) and fields[3] == "0A":
                    return True
    return False
