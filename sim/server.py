"""Loopback server adapter: the same Simulator over real sockets, for subprocesses.

One plain-HTTP listener carries Auth (`/auth/...`), Transfer (`/transfer/...`) and the
control API (`/control/...`); each simulated GCS endpoint gets its own HTTPS listener
with a certificate from a trustme CA (its address `127.0.0.1:PORT` is what the endpoint
document and `GCSClient` use). Threaded; h11 parses requests and frames replies (HTTP/1.1
keep-alive, chunked request bodies); one `sendall` per reply.

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
import socketserver
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h11
import trustme

from orbit_sim.core.http import Request, Response
from orbit_sim.core.simulator import Simulator

if TYPE_CHECKING:
    from orbit_sim.control import SimControl

log = logging.getLogger("orbit_sim.server")
PREFIXES = {"/auth": "auth", "/transfer": "transfer", "/control": "control"}
_REASONS = {status.value: status.phrase.encode("latin-1") for status in HTTPStatus}
RECV_SIZE = 65536


class _Handler(socketserver.BaseRequestHandler):
    """One connection: h11 parses requests (Content-Length or chunked bodies, keep-alive)
    and frames replies; each reply leaves in one `sendall`."""

    server: _SimServer

    def setup(self) -> None:
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                received = self._receive_request(conn)
            except h11.RemoteProtocolError:
                self._send_bad_request(conn)
                return
            if received is None:  # the client closed between requests
                return
            head, body = received
            response = self._answer(head, body)
            if response.drop_connection:
                # The fault: close without a single byte of reply.
                with contextlib.suppress(OSError):
                    self.request.shutdown(socket.SHUT_RDWR)
                return
            self._send(conn, head.method == b"HEAD", response)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    def _next_event(self, conn: h11.Connection) -> Any:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(self.request.recv(RECV_SIZE))

    def _receive_request(self, conn: h11.Connection) -> tuple[h11.Request, bytes] | None:
        head = self._next_event(conn)
        if not isinstance(head, h11.Request):
            return None
        chunks = []
        while not isinstance(event := self._next_event(conn), h11.EndOfMessage):
            if not isinstance(event, h11.Data):
                raise h11.RemoteProtocolError("the request ended before its body")
            chunks.append(event.data)
        return head, b"".join(chunks)

    def _answer(self, head: h11.Request, body: bytes) -> Response:
        raw_path, _, query = head.target.decode("latin-1").partition("?")
        service, path = self.server.route(raw_path)
        if service is None:
            return Response.json({"code": "NotFound", "message": "Unknown service"}, 404)
        request = Request.from_url_parts(
            head.method.decode("ascii"),
            path,
            query,
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers],
            body,
            service=service,
            endpoint_id=self.server.endpoint_id,
        )
        try:
            return self.server.sim.handle(request)
        except Exception:
            # A simulator bug: say so (500, logged) instead of a silently dropped
            # connection that the SDK would retry.
            log.exception("orbit-sim: unhandled error for %r", request)
            return Response.json(
                {
                    "code": "InternalError",
                    "message": "orbit-sim raised an unexpected error (see its log)",
                    "request_id": request.request_id,
                    "resource": request.path,
                },
                status=500,
            )

    def _send(self, conn: h11.Connection, head_only: bool, response: Response) -> None:
        headers = [*response.headers.items(), ("Content-Length", str(len(response.body)))]
        reply = h11.Response(
            status_code=response.status,
            headers=headers,
            reason=_REASONS.get(response.status, b""),
        )
        data = conn.send(reply) or b""
        if not head_only and response.body:
            data += conn.send(h11.Data(data=response.body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
        self.request.sendall(data)

    def _send_bad_request(self, conn: h11.Connection) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        bad = Response.json({"code": "BadRequest", "message": "Malformed HTTP request"}, 400)
        with contextlib.suppress(h11.LocalProtocolError, OSError):
            self._send(conn, False, bad)


class _SimServer(socketserver.ThreadingTCPServer):
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
