"""A small stand-in for Globus stream access points, built on orbit_globus.lan.

``InitiatorAccessPoint`` listens on loopback, runs the GSLA server handshake on every
connection (arrow 1) and relays the authenticated stream to a target address.
``connect_as_listener_ap`` plays the listener access point (arrow 3): it connects to the
listening application and runs the client handshake as role 2.
Refused connections are counted with the bytes that arrived after the refusal, so tests
can show that no application byte got through.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from dataclasses import dataclass, field

from orbit_globus.lan import (
    ClientHandshake,
    Credential,
    HandshakeError,
    Role,
    ServerHandshake,
    Status,
    client_handshake,
    lookup_for,
    server_handshake,
)
from tests.intercept.netutil import LOOPBACK


@dataclass
class Outcome:
    """What happened to one connection at the access point."""

    status: Status | None
    bytes_after_refusal: int = 0


@dataclass
class InitiatorAccessPoint:
    tunnel_id: uuid.UUID | str
    credential: Credential
    target: tuple[str, int]
    family: int = socket.AF_INET
    silent: bool = False  # accept and never answer (timeout tests)
    handshake_timeout: float = 10.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.socket(self.family, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK[self.family], 0))
        self._listener.listen(16)
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._spawn(self._accept_loop)

    @property
    def contact(self) -> str:
        """The connector_contact_string for a conf: ip:port or [v6]:port."""
        host, port = self._listener.getsockname()[:2]
        return f"[{host}]:{port}" if self.family == socket.AF_INET6 else f"{host}:{port}"

    def _spawn(self, target, *args) -> None:  # type: ignore[no-untyped-def]
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._track(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        if self.silent:
            return  # holds the connection open without a byte until stop()
        status: Status | None = Status.OK
        if self.credential.secret:
            hs = ServerHandshake(lookup_for(self.tunnel_id, self.credential))
            try:
                status = server_handshake(conn, hs, self.handshake_timeout)
            except (HandshakeError, OSError):
                status = hs.status
        if status is not Status.OK:
            self.outcomes.append(Outcome(status, _drain(conn)))
            conn.close()
            return
        self.outcomes.append(Outcome(status))
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        conn.settimeout(None)
        self._track(upstream)
        self._spawn(_pump, upstream, conn)
        _pump(conn, upstream)

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(5)


def _drain(conn: socket.socket) -> int:
    """Bytes the peer still sends after a refusal (a correct client sends none); stop()
    may close the connection first."""
    total = 0
    with contextlib.suppress(OSError):
        conn.settimeout(1)
        while chunk := conn.recv(65536):
            total += len(chunk)
    return total


def _pump(src: socket.socket, dst: socket.socket) -> None:
    """Copy until EOF, then half-close so the other direction can finish."""
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


def connect_as_listener_ap(
    address: tuple[str, int],
    tunnel_id: uuid.UUID | str,
    credential: Credential,
    family: int = socket.AF_INET,
    timeout: float = 10.0,
) -> socket.socket:
    """Connect to a listening application and authenticate as its access point (role 2).
    Raises HandshakeError/OSError when the application side refuses."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(address)
        if credential.secret:
            hs = ClientHandshake(
                tunnel_id=tunnel_id,
                secret=credential.secret,
                secret_id=credential.secret_id,
                role=Role.ACCESS_POINT,
            )
            client_handshake(sock, hs, timeout)
    except BaseException:
        sock.close()
        raise
    return sock
