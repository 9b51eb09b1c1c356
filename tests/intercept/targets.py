"""Servers on the far side of a tunnel, and the preloaded-process runner."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import socket
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.intercept.netutil import LOOPBACK, recv_all

# A reply long enough to cross many socket buffers, and not all one byte.
REPLY_BLOB = hashlib.sha256(b"seed").digest() * 8192  # 256 KiB


def reply_for(received: bytes) -> bytes:
    """What HashServer answers: the blob, then the hex SHA-256 of what it received."""
    return REPLY_BLOB + hashlib.sha256(received).hexdigest().encode()


class HashServer:
    """Reads until EOF (or `expect` bytes), answers reply_for(data), closes."""

    def __init__(self, family: int = socket.AF_INET, expect: int | None = None) -> None:
        self.expect = expect
        self.received: list[bytes] = []
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK[family], 0))
        self._listener.listen(16)
        self.address = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(20)
            try:
                if self.expect is None:
                    data = recv_all(conn)
                else:
                    data = conn.recv(self.expect, socket.MSG_WAITALL)
                self.received.append(data)
                conn.sendall(reply_for(data))
            except OSError:
                pass

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)


class _HashHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        payload = reply_for(body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class HttpHashServer:
    """HTTP target for curl: POST a body, get reply_for(body)."""

    def __init__(self) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HashHandler)
        self.address = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def preload_env(library: Path, conf_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLOBUS_STREAMS_")}
    env.update(
        LD_PRELOAD=str(library),
        GLOBUS_STREAMS_DIR=str(conf_dir),
        GLOBUS_STREAMS_DEBUG="1",
        GLOBUS_STREAMS_HANDSHAKE_TIMEOUT_MS="5000",
    )
    env.update(extra)
    return env


def run(
    argv: Sequence[str], env: Mapping[str, str], data: bytes = b"", timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        list(argv), input=data, env=dict(env), capture_output=True, timeout=timeout, check=False
    )


def free_port(family: int = socket.AF_INET) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK[family], 0))
        return s.getsockname()[1]
