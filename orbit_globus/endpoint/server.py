"""Serving the endpoint app with uvicorn on a socket we bind ourselves (so port 0 works
and the URL is known before the first request)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable

import uvicorn
from starlette.types import ASGIApp

# Long-polls would otherwise hold a shutdown for their whole timeout.
GRACEFUL_SHUTDOWN_SECONDS = 2


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def make_server(app: ASGIApp, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


async def serve(
    server: uvicorn.Server,
    sock: socket.socket,
    on_started: Callable[[], Awaitable[None] | None] | None = None,
) -> None:
    """Run ``server`` on ``sock`` until it is told to exit; ``on_started`` once it listens."""

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        if on_started is not None:
            result = on_started()
            if result is not None:
                await result

    announcer = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()


class ThreadedHost:
    """The app served in a background thread (tests, examples): ``.url``, ``.stop()``."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = bind(host, port)
        self.url = base_url(self._sock)
        self._server = make_server(app)
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="endpoint-host", daemon=True)

    def start(self, timeout: float = 10.0) -> ThreadedHost:
        self._thread.start()
        if not self._started.wait(timeout):
            self.stop()
            raise RuntimeError("the endpoint host did not start")
        return self

    def _run(self) -> None:
        asyncio.run(serve(self._server, self._sock, self._started.set))

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ThreadedHost:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
