"""Plugin: the ``globus`` REST routes and per-client sessions on the endpoint host.

Routes (under ``/globus``; every call carries the caller's client token)::

    POST   /sessions                          register  -> {session_id, local_collection}
    DELETE /sessions/{sid}                    close
    POST   /sessions/{sid}/credential         swap in a fresh credential, tasks kept
    GET    /sessions/{sid}/events?after=&timeout=   long-poll -> {events, closed}
    POST   /sessions/{sid}/transfers          submit_transfer -> {task_id, submission_id, status}
    POST   /sessions/{sid}/deletes            delete -> {task_id, submission_id, status}
    GET    /sessions/{sid}/tasks              list_tasks (limit, offset, filter, orderby)
    GET    /sessions/{sid}/tasks/{tid}        get_task
    POST   /sessions/{sid}/tasks/{tid}/cancel cancel_task
    GET    /sessions/{sid}/ls                 ls (collection, path, limit, offset, filter...)
    GET    /sessions/{sid}/stat               stat (collection, path)
    POST   /sessions/{sid}/mkdir              mkdir {collection, path}
    POST   /sessions/{sid}/rename             rename {collection, oldpath, newpath}
    GET    /sessions/{sid}/endpoints          endpoint_search (filter_text, limit, offset, ...)
    GET    /sessions/{sid}/endpoints/{eid}    get_endpoint

A session belongs to the client that registered it. Any other client gets the same 404
as for a session that does not exist, so it cannot even learn that the session exists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from globus_sdk.transport import RetryConfig
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from orbit_globus.endpoint.clients import ClientRegistry

from .credentials import Credential
from .errors import SESSION_NOT_FOUND, BadRequestError, NotFoundError
from .local_collection import resolve_local_collection
from .session import DEFAULT_POLL_INTERVAL, GlobusSession

log = logging.getLogger(__name__)

MAX_LONG_POLL = 30.0
Handler = Callable[[Request, GlobusSession], Awaitable[Any]]


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequestError("the request body must be a JSON object")
    return body


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequestError(f"{name} must be an integer") from None


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise BadRequestError(f"{name} must be true or false")


def _required(body: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise BadRequestError(f"missing field(s): {', '.join(missing)}")
    return [body[name] for name in names]


class Plugin:
    """The ``globus`` endpoint plugin."""

    name = "globus"

    def __init__(
        self,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        retry_config: RetryConfig | None = None,
        local_collection: str | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self.retry_config = retry_config
        # Discovered once, at plugin start-up (SPEC 6); a session may override it.
        self.local_collection = local_collection or resolve_local_collection()
        self._sessions: dict[str, tuple[str, GlobusSession]] = {}

    # -- lifecycle ---------------------------------------------------------------------

    async def startup(self) -> None:
        log.info("globus plugin ready; local collection: %s", self.local_collection)

    async def shutdown(self) -> None:
        sessions = [session for _, session in self._sessions.values()]
        self._sessions.clear()
        await asyncio.gather(*(session.close() for session in sessions))

    async def forget_client(self, client_id: str) -> None:
        owned = [sid for sid, (owner, _) in self._sessions.items() if owner == client_id]
        await asyncio.gather(*(self._sessions.pop(sid)[1].close() for sid in owned))

    def sessions_of(self, client_id: str) -> list[GlobusSession]:
        return [session for owner, session in self._sessions.values() if owner == client_id]

    # -- routing -----------------------------------------------------------------------

    def routes(self, clients: ClientRegistry) -> list[BaseRoute]:
        def on_session(handler: Handler, status: int = 200) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                session = self._session_for(clients.authenticate(request), request)
                result = await handler(request, session)
                if result is None:
                    return Response(status_code=204)
                return JSONResponse(result, status_code=status)

            return endpoint

        async def register(request: Request) -> Response:
            client_id = clients.authenticate(request)
            return JSONResponse(await self._register(client_id, request), status_code=201)

        s = "/sessions/{session_id}"
        return [
            Route("/sessions", register, methods=["POST"]),
            Route(s, on_session(self._close), methods=["DELETE"]),
            Route(s + "/credential", on_session(self._renew), methods=["POST"]),
            Route(s + "/events", on_session(self._events), methods=["GET"]),
            Route(s + "/transfers", on_session(self._submit_transfer, 201), methods=["POST"]),
            Route(s + "/deletes", on_session(self._submit_delete, 201), methods=["POST"]),
            Route(s + "/tasks", on_session(self._list_tasks), methods=["GET"]),
            Route(s + "/tasks/{task_id}", on_session(self._get_task), methods=["GET"]),
            Route(s + "/tasks/{task_id}/cancel", on_session(self._cancel), methods=["POST"]),
            Route(s + "/ls", on_session(self._ls), methods=["GET"]),
            Route(s + "/stat", on_session(self._stat), methods=["GET"]),
            Route(s + "/mkdir", on_session(self._mkdir), methods=["POST"]),
            Route(s + "/rename", on_session(self._rename), methods=["POST"]),
            Route(s + "/endpoints", on_session(self._endpoint_search), methods=["GET"]),
            Route(s + "/endpoints/{endpoint_id}", on_session(self._get_endpoint)),
        ]

    def _session_for(self, client_id: str, request: Request) -> GlobusSession:
        entry = self._sessions.get(request.path_params["session_id"])
        if entry is None or entry[0] != client_id:
            raise NotFoundError("no such session", code=SESSION_NOT_FOUND)
        return entry[1]

    # -- sessions ----------------------------------------------------------------------

    @staticmethod
    def _credential(body: dict[str, Any]) -> Credential:
        return Credential(
            access_token=body.get("access_token") or None,
            refresh_token=body.get("refresh_token") or None,
            client_id=body.get("client_id") or None,
            client_secret=body.get("client_secret") or None,
        )

    async def _register(self, client_id: str, request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        session = await GlobusSession.open(
            self._credential(body),
            local_collection=body.get("local_collection") or self.local_collection,
            poll_interval=self.poll_interval,
            retry_config=self.retry_config,
        )
        self._sessions[session.session_id] = (client_id, session)
        return {"session_id": session.session_id, "local_collection": session.local_collection}

    async def _close(self, request: Request, session: GlobusSession) -> None:
        self._sessions.pop(session.session_id, None)
        await session.close()

    async def _renew(self, request: Request, session: GlobusSession) -> dict[str, Any]:
        body = await _json_body(request)
        await session.renew(self._credential(body), retry_config=self.retry_config)
        if body.get("local_collection"):
            session.local_collection = body["local_collection"]
        return {"session_id": session.session_id, "local_collection": session.local_collection}

    async def _events(self, request: Request, session: GlobusSession) -> dict[str, Any]:
        after = _int_param(request, "after", 0) or 0
        try:
            timeout = min(float(request.query_params.get("timeout", 10.0)), MAX_LONG_POLL)
        except ValueError:
            raise BadRequestError("timeout must be a number of seconds") from None
        events = await session.notifications.wait_after(after, max(timeout, 0.0))
        return {"events": events, "closed": session.notifications.closed and not events}

    # -- tasks -------------------------------------------------------------------------

    async def _submit_transfer(self, request: Request, session: GlobusSession) -> Any:
        body = await _json_body(request)
        items = body.pop("items", None)
        if not isinstance(items, list):
            raise BadRequestError("items must be a list of {source, destination, recursive}")
        return await session.submit_transfer(
            body.pop("source", None),
            body.pop("destination", None),
            items,
            label=body.pop("label", None),
            sync_level=body.pop("sync_level", None),
            **body,
        )

    async def _submit_delete(self, request: Request, session: GlobusSession) -> Any:
        body = await _json_body(request)
        (paths,) = _required(body, "paths")
        body.pop("paths")
        return await session.submit_delete(
            body.pop("collection", None),
            paths,
            recursive=bool(body.pop("recursive", False)),
            label=body.pop("label", None),
            **body,
        )

    async def _list_tasks(self, request: Request, session: GlobusSession) -> Any:
        return await session.list_tasks(
            limit=_int_param(request, "limit", 100) or 0,
            offset=_int_param(request, "offset", 0) or 0,
            filter=request.query_params.get("filter"),
            orderby=request.query_params.getlist("orderby") or None,
        )

    async def _get_task(self, request: Request, session: GlobusSession) -> Any:
        return await session.get_task(request.path_params["task_id"])

    async def _cancel(self, request: Request, session: GlobusSession) -> Any:
        return await session.cancel_task(request.path_params["task_id"])

    # -- file system -------------------------------------------------------------------

    async def _ls(self, request: Request, session: GlobusSession) -> Any:
        query = request.query_params
        return await session.ls(
            query.get("collection"),
            query.get("path"),
            show_hidden=_bool_param(request, "show_hidden"),
            limit=_int_param(request, "limit", None),
            offset=_int_param(request, "offset", None),
            filter=query.getlist("filter") or None,
            orderby=query.getlist("orderby") or None,
        )

    async def _stat(self, request: Request, session: GlobusSession) -> Any:
        (path,) = _required(dict(request.query_params), "path")
        return await session.stat(request.query_params.get("collection"), path)

    async def _mkdir(self, request: Request, session: GlobusSession) -> Any:
        body = await _json_body(request)
        (path,) = _required(body, "path")
        return await session.mkdir(body.get("collection"), path)

    async def _rename(self, request: Request, session: GlobusSession) -> Any:
        body = await _json_body(request)
        oldpath, newpath = _required(body, "oldpath", "newpath")
        return await session.rename(body.get("collection"), oldpath, newpath)

    # -- discovery ---------------------------------------------------------------------

    async def _endpoint_search(self, request: Request, session: GlobusSession) -> Any:
        query = dict(request.query_params)
        filters = {key: value for key, value in query.items() if key.startswith("filter_")}
        filters.pop("filter_text", None)
        if "filter_non_functional" in filters:
            filters["filter_non_functional"] = _bool_param(request, "filter_non_functional")
        return await session.endpoint_search(
            query.get("filter_text"),
            limit=_int_param(request, "limit", 25) or 0,
            offset=_int_param(request, "offset", 0) or 0,
            **filters,
        )

    async def _get_endpoint(self, request: Request, session: GlobusSession) -> Any:
        return await session.get_endpoint(request.path_params["endpoint_id"])
