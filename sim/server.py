"""Loopback server adapter: the same Simulator over real sockets, for subprocesses.

One plain-HTTP listener carries Auth (`/auth/...`), Transfer (`/transfer/...`) and the
control API (`/control/...`); each simulated GCS endpoint gets its own HTTPS listener
with a certificate from a trustme CA (its address `127.0.0.1:PORT` is what the endpoint
document and `GCSClient` use). Threaded, HTTP/1.1 keep-alive, one `sendall` per reply.

    handle = orbit_sim.serve(sim)      # returns once every listener is accepting
    handle.env                         # SPEC 5.3 variables for subprocesses
    handle.stop()
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trustme

from orbit_sim.core.http import Request, Response
from orbit_sim.core.simulator import Simulator

if TYPE_CHECKING:
    from orbit_sim.control import SimControl

log = logging.getLogger("orbit_sim.server")
PREFIXES = {"/auth": "auth", "/transfer": "transfer", "/control": "control"}
_REASONS = BaseHTTPRequestHandler.responses


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _SimServer

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # quiet: request lines can carry ids users did not ask to see

    def _answer(self) -> None:
        raw_path, _, query = self.path.partition("?")
        service, path = self.server.route(raw_path)
        body = self._read_body()
        if body is None:
            self._send(Response.json({"code": "BadRequest", "message": "Bad body"}, 400))
            self.close_connection = True
            return
        if service is None:
            response = Response.json({"code": "NotFound", "message": "Unknown service"}, 404)
        else:
            request = Request.from_url_parts(
                self.command,
                path,
                query,
                self.headers.items(),
                body,
                service=service,
                endpoint_id=self.server.endpoint_id,
            )
            try:
                response = self.server.sim.handle(request)
            except Exception:
                # A simulator bug: say so (500, logged) instead of a silently dropped
                # connection that the SDK would retry.
                log.exception("orbit-sim: unhandled error for %r", request)
                response = Response.json(
                    {
                        "code": "InternalError",
                        "message": "orbit-sim raised an unexpected error (see its log)",
                        "request_id": request.request_id,
                        "resource": request.path,
                    },
                    status=500,
                )
        if response.drop_connection:
            # The fault: close without a single byte of reply.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(response)

    def _read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None when it is malformed."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # the CRLF after each chunk
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        reason = _REASONS.get(response.status, ("",))[0]
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{key}: {value}" for key, value in response.headers.items()]
        body = b"" if self.command == "HEAD" else response.body
        lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer


class _SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        sim: Simulator,
        *,
        endpoint_id: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sim = sim
        self.endpoint_id = endpoint_id
        self.tls = tls
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def route(self, path: str) -> tuple[str | None, str]:
        """(service, path within it) for a request path."""
        if self.endpoint_id is not None:
            return "gcs", path
        for prefix, service in PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                return service, path[len(prefix) :] or "/"
        return None, path

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's thread, not in the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that vanished mid-request is not the server's problem

    def close_all(self) -> None:
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


@dataclass
class ServerHandle:
    """A running loopback simulator: its URLs, CA, env (SPEC 5.3) and `stop()`."""

    sim: Simulator
    host: str
    port: int
    ca_path: Path
    gcs_ports: dict[str, int]
    _servers: list[_SimServer] = field(repr=False)
    _threads: list[threading.Thread] = field(repr=False)
    _state_dir: Path | None = field(repr=False)

    @property
    def state_dir(self) -> Path:
        """The private directory holding the CA certificate (0700)."""
        return self.ca_path.parent

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth/"

    @property
    def transfer_url(self) -> str:
        return f"{self.base_url}/transfer/"

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/control"

    def control(self) -> SimControl:
        """A client of this server's control API (close it, or use it as a context)."""
        from orbit_sim.control import SimControl

        return SimControl(self.control_url)

    @property
    def env(self) -> dict[str, str]:
        world = self.sim.world
        env = {
            "GLOBUS_SDK_SERVICE_URL_AUTH": self.auth_url,
            "GLOBUS_SDK_SERVICE_URL_TRANSFER": self.transfer_url,
            "GLOBUS_SDK_VERIFY_SSL": str(self.ca_path),
            "ORBIT_SIM_URL": self.control_url,
            "ORBIT_SIM_CA": str(self.ca_path),
        }
        if world is not None:
            env["GLOBUS_STREAMS_CLIENT_ID"] = world.client_id
            env["GLOBUS_STREAMS_CLIENT_SECRET"] = world.client_secret
            env["ORBIT_SIM_INITIATOR_AP"] = world.initiator_ap_id
            env["ORBIT_SIM_LISTENER_AP"] = world.listener_ap_id
            for index, collection_id in enumerate(world.collections[:2], start=1):
                env[f"ORBIT_SIM_COLLECTION_{index}"] = collection_id
        return env

    def env_file_text(self) -> str:
        from shlex import quote

        return "".join(f"export {k}={quote(v)}\n" for k, v in self.env.items())

    def write_env_file(self, path: str | os.PathLike[str]) -> Path:
        """Write the env as shell `export` lines, mode 0600 (it holds the client secret)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.env_file_text())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        return target

    def stop(self) -> None:
        for server in self._servers:
            server.close_all()
        for thread in self._threads:
            thread.join(timeout=5)
        for endpoint in self.sim.gcs.endpoints.values():
            if endpoint.id in self.gcs_ports:
                endpoint.served_address = None
        if self._state_dir is not None:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _tls_context(ca: trustme.CA, host: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host, "127.0.0.1", "::1", "localhost").configure_cert(context)
    return context


def _start(server: _SimServer, name: str) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    thread.start()
    return thread


def serve(
    sim: Simulator | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ca: trustme.CA | None = None,
    state_dir: str | os.PathLike[str] | None = None,
) -> ServerHandle:
    """Serve `sim` (a new default Simulator if None) on loopback; returns when ready.

    `state_dir` receives the CA certificate (default: a private temporary directory,
    removed by `stop()`).
    """
    sim = sim if sim is not None else Simulator()
    ca = ca if ca is not None else trustme.CA(organization_name="orbit-sim")
    owned_dir = None
    if state_dir is None:
        owned_dir = Path(tempfile.mkdtemp(prefix="orbit-sim-"))
        directory = owned_dir
    else:
        directory = Path(state_dir)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_path = directory / "orbit-sim-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))

    servers: list[_SimServer] = []
    threads: list[threading.Thread] = []
    gcs_ports: dict[str, int] = {}
    try:
        main = _SimServer((host, port), sim)
        servers.append(main)
        tls = _tls_context(ca, host)
        for endpoint in list(sim.gcs.endpoints.values()):
            gcs = _SimServer((host, 0), sim, endpoint_id=endpoint.id, tls=tls)
            servers.append(gcs)
            gcs_port = gcs.server_address[1]
            gcs_ports[endpoint.id] = gcs_port
            shown = f"[{host}]" if ":" in host else host
            endpoint.served_address = f"{shown}:{gcs_port}"
    except BaseException:
        for server in servers:
            server.server_close()
        if owned_dir is not None:
            shutil.rmtree(owned_dir, ignore_errors=True)
        raise
    for index, server in enumerate(servers):
        threads.append(_start(server, f"orbit-sim-http-{index}"))
    handle = ServerHandle(
        sim=sim,
        host=host,
        port=main.server_address[1],
        ca_path=ca_path,
        gcs_ports=gcs_ports,
        _servers=servers,
        _threads=threads,
        _state_dir=owned_dir,
    )
    return handle
