"""A real RADICAL Orbit deployment on loopback: broker, endpoint serving ``globus``, runtimes.

The broker (``radical-orbit-broker.py``) and the endpoint (``radical-orbit-endpoint.py
-p globus``) are radical.orbit's own scripts, run as subprocesses under a throw-away HOME
whose ``.radical/orbit`` holds a fresh self-signed cert, its key and an ingress token, as
radical.orbit's deployment notes ask. The endpoint's globus-sdk talks to the simulator.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from radical.orbit import EndpointRuntime

ENDPOINT = "ep1"
BIN = Path(sys.executable).parent
READY_TIMEOUT = 60.0
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def write_orbit_config(home: Path) -> tuple[Path, str]:
    """``HOME/.radical/orbit``: a self-signed cert and key (0600) and a token; returns both."""
    config = home / ".radical" / "orbit"
    config.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orbit-test-broker")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(LOOPBACK)]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = config / "broker_cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(
        config / "broker_key.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    token = secrets.token_urlsafe(32)
    _write_private(config / "broker.token", token.encode() + b"\n")
    return cert_path, token


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the broker exited early:\n{_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the broker did not listen on {port}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class OrbitStack:
    home: Path
    url: str
    cert: Path
    token: str
    endpoint_env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    runtimes: list[EndpointRuntime] = field(default_factory=list)

    @property
    def endpoint_log(self) -> Path:
        return self.home / f"{ENDPOINT}.log"

    def client_env(self) -> dict[str, str]:
        """What a consumer script needs: HOME (cert, token) and the broker URL."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "RADICAL_"))}
        env.update(HOME=str(self.home), RADICAL_ORBIT_BROKER_URL=self.url)
        env["RADICAL_ORBIT_LOG_FILE"] = str(self.home / "consumer.log")
        return env

    def runtime(self) -> EndpointRuntime:
        """A started consumer runtime, stopped with the stack (or by ``close_runtime``)."""
        rt = EndpointRuntime(broker_url=self.url, cert=str(self.cert), token=self.token)
        self.runtimes.append(rt)
        rt.start(wait=True)
        try:
            _wait_for_plugin(rt)
        except RuntimeError as err:
            raise RuntimeError(f"{err}; endpoint log:\n{_tail(self.endpoint_log)}") from None
        return rt

    def close_runtime(self, rt: EndpointRuntime) -> None:
        if rt in self.runtimes:
            self.runtimes.remove(rt)
        rt.stop()

    def close(self) -> None:
        for rt in reversed(self.runtimes):
            with contextlib.suppress(Exception):
                rt.stop()
        self.runtimes.clear()
        for process in reversed(self.processes):
            _stop(process)


def _wait_for_plugin(rt: EndpointRuntime) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        info = rt.topology().get(ENDPOINT) or {}
        if "globus" in (info.get("plugins") or {}):
            return
        time.sleep(0.05)
    raise RuntimeError(f"endpoint {ENDPOINT} with the globus plugin did not appear")


@contextlib.contextmanager
def orbit_stack(sim_env: dict[str, str], poll_interval: float) -> Iterator[OrbitStack]:
    """Broker + endpoint serving ``globus`` (globus-sdk pointed at the simulator)."""
    home = Path(tempfile.mkdtemp(prefix="orbit-home-"))
    cert, token = write_orbit_config(home)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GLOBUS_", "RADICAL_"))}
    base["HOME"] = str(home)
    endpoint_env = {
        **base,
        **{k: v for k, v in sim_env.items() if k.startswith("GLOBUS_SDK_")},
        "ORBIT_GLOBUS_POLL_INTERVAL": str(poll_interval),
        "ORBIT_GLOBUS_RETRY_MAX_SLEEP": "0.05",
        "RADICAL_ORBIT_LOG_FILE": str(home / f"{ENDPOINT}.log"),
    }
    stack = OrbitStack(home, f"https://127.0.0.1:{port}", cert, token, endpoint_env)
    try:
        broker_log = home / "broker.log"
        broker = subprocess.Popen(
            [sys.executable, str(BIN / "radical-orbit-broker.py"), "--host", "127.0.0.1"]
            + ["--port", str(port), "--plugins", "", "--no-gateway"],
            env={**base, "RADICAL_ORBIT_LOG_FILE": str(broker_log)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.processes.append(broker)
        _wait_listening(port, broker, broker_log)
        endpoint = subprocess.Popen(
            [sys.executable, str(BIN / "radical-orbit-endpoint.py"), "--name", ENDPOINT]
            + ["--url", stack.url, "--plugins", "globus"],
            env=endpoint_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.processes.append(endpoint)
        yield stack
    finally:
        stack.close()
        shutil.rmtree(home, ignore_errors=True)


def their_example(cache: Path) -> Path:
    """radical.orbit's examples/example_globus.py, unmodified, from its sdist (cached)."""
    release = version("radical.orbit")
    target = cache / f"radical.orbit-{release}" / "example_globus.py"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:"]
            + ["--no-deps", "--dest", download, f"radical.orbit=={release}"],
            check=True,
        )
        (sdist,) = Path(download).glob("radical*orbit-*.tar.gz")
        with tarfile.open(sdist) as archive:
            wanted = "/examples/example_globus.py"
            member = next(m for m in archive.getmembers() if m.name.endswith(wanted))
            source = archive.extractfile(member)
            assert source is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}")
            partial.write_bytes(source.read())
            os.replace(partial, target)  # another worker may be fetching it too
    return target
