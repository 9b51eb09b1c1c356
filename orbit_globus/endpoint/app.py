"""The endpoint host's ASGI application: client registration plus plugin routes.

Routes of the host itself::

    POST   /clients        -> 201 {client_id, token}   (token: the client's bearer credential)
    DELETE /clients/me     -> 204                      (closes everything the client owns)
    GET    /plugins        -> {plugins: [name, ...]}

Each plugin's routes are mounted under ``/<plugin name>``. Every error is JSON
``{code, message, required_scopes}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from orbit_globus.transfer.errors import PluginError

from .clients import ClientRegistry

log = logging.getLogger(__name__)

WORKER_THREADS = 32


class EndpointPlugin(Protocol):
    name: str

    def routes(self, clients: ClientRegistry) -> list[BaseRoute]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def forget_client(self, client_id: str) -> None: ...


def error_response(error: PluginError) -> JSONResponse:
    return JSONResponse(error.to_json(), status_code=error.status)


async def _plugin_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PluginError)
    return error_response(exc)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
    return error_response(PluginError(str(exc.detail), code=code, status=exc.status_code))


async def _unexpected_error(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error in the endpoint host")
    return error_response(PluginError(f"internal error: {type(exc).__name__}"))


def build_app(plugins: Sequence[EndpointPlugin], worker_threads: int = WORKER_THREADS) -> Starlette:
    clients = ClientRegistry()

    async def register_client(_request: Request) -> Response:
        client_id, token = clients.register()
        return JSONResponse({"client_id": client_id, "token": token}, status_code=201)

    async def unregister_client(request: Request) -> Response:
        client_id = clients.authenticate(request)
        for plugin in plugins:
            await plugin.forget_client(client_id)
        clients.forget(client_id)
        return Response(status_code=204)

    async def list_plugins(_request: Request) -> Response:
        return JSONResponse({"plugins": [plugin.name for plugin in plugins]})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Plugins run blocking SDK calls via asyncio.to_thread; the default pool (cores + 4)
        # would let a few slow Globus calls queue every other client's calls behind them.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=worker_threads, thread_name_prefix="endpoint-worker")
        )
        for plugin in plugins:
            await plugin.startup()
        try:
            yield
        finally:
            for plugin in plugins:
                await plugin.shutdown()

    routes: list[BaseRoute] = [
        Route("/clients", register_client, methods=["POST"]),
        Route("/clients/me", unregister_client, methods=["DELETE"]),
        Route("/plugins", list_plugins, methods=["GET"]),
    ]
    routes += [Mount(f"/{plugin.name}", routes=plugin.routes(clients)) for plugin in plugins]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            PluginError: _plugin_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    app.state.clients = clients
    return app
