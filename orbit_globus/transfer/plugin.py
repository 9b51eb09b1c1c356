"""PluginGlobus: the ``globus`` plugin, served by radical.orbit's endpoint (SPEC 6).

Registered through the ``radical.orbit.plugins`` entry point, so
``radical-orbit-endpoint.py -p globus`` serves this class in place of radical.orbit's
built-in one. Routes and bodies are radical.orbit 0.7.0's ``PluginGlobus`` ones (under
``/globus``), so its own ``GlobusClient`` drives this plugin unchanged::

    POST register_session               {access_token | refresh_token+client_id, ...} -> {sid}
    POST submit/{sid}                   -> {task_id, submission_id, status}
    GET  task/{sid}/{task_id}           -> the Transfer task document
    POST wait/{sid}/{task_id}           {timeout, polling_interval} -> {task_id, completed}
    POST cancel/{sid}/{task_id}         -> Globus' answer
    GET  tasks/{sid}?limit=&offset=&filter=&orderby=  -> {tasks}
    POST ls/{sid}                       {collection, path, ...} -> {collection, path, entries}
    POST stat/{sid}                     {collection, path} -> the file document
    POST mkdir/{sid}, rename/{sid}      -> Globus' answer
    POST delete/{sid}                   -> {task_id, submission_id, status}
    POST endpoint_search/{sid}          {filter_text, limit, ...} -> {endpoints}
    GET  endpoint/{sid}/{endpoint_id}   -> the collection document

A session belongs to the participant that registered it (radical.orbit's broker-stamped
``x-orbit-src``); anyone else gets the same 404 as for a session that does not exist.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import globus_sdk
from fastapi import HTTPException
from globus_sdk.transport import RetryConfig
from radical.orbit.plugin_base import Plugin

import orbit_globus

from . import wire
from .client import GlobusClient
from .credentials import Credential
from .errors import (
    SESSION_EXPIRED,
    SESSION_NOT_FOUND,
    BadRequestError,
    NotFoundError,
    PluginError,
)
from .local_collection import resolve_local_collection
from .session import DEFAULT_POLL_INTERVAL, GlobusSession

# Into radical.orbit's endpoint log, next to the plugin host's own lines.
log = logging.getLogger("radical.orbit.globus")

POLL_INTERVAL_VAR = "ORBIT_GLOBUS_POLL_INTERVAL"
RETRY_MAX_SLEEP_VAR = "ORBIT_GLOBUS_RETRY_MAX_SLEEP"
CREDENTIAL_FIELDS = ("access_token", "refresh_token", "client_id", "client_secret")

Handler = Callable[[Any, GlobusSession], Awaitable[Any]]


def _env_seconds(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return wire.seconds(value, name, 0.0)
    except PluginError as err:
        raise ValueError(err.message) from None


def _credential(body: dict[str, Any]) -> Credential | None:
    """The credential in a register_session body, or None when it carries none."""
    fields = {name: wire.text(body, name) for name in CREDENTIAL_FIELDS}
    if not any(fields.values()):
        return None
    return Credential(**fields)


def _not_found(sid: str) -> NotFoundError:
    return NotFoundError(f"unknown session id: {sid}", code=SESSION_NOT_FOUND)


def _options(body: dict[str, Any], *known: str) -> dict[str, Any]:
    """Extra Globus options in a body: what is set and not one of the ``known`` fields."""
    return {k: v for k, v in body.items() if k not in known and v is not None}


class PluginGlobus(Plugin):
    """Globus Transfer staging on a radical.orbit endpoint."""

    plugin_name = "globus"
    session_class = GlobusSession
    client_class = GlobusClient
    version = orbit_globus.__version__
    ui_config = {
        "icon": "🌐",
        "title": "Globus Transfer",
        "description": "Stage files between Globus collections (orbit-globus).",
    }

    @classmethod
    def is_enabled(cls, app: Any) -> bool:
        """Endpoint-side only: Globus credentials stay on the endpoint, never the broker."""
        return not getattr(app.state, "is_broker", False)

    def __init__(self, app: Any, instance_name: str = "globus") -> None:
        super().__init__(app, instance_name)
        self.poll_interval = _env_seconds(POLL_INTERVAL_VAR) or DEFAULT_POLL_INTERVAL
        max_sleep = _env_seconds(RETRY_MAX_SLEEP_VAR)
        self.retry_config = RetryConfig(max_sleep=max_sleep) if max_sleep else None
        # Discovered once, at plugin start-up (SPEC 6); a session may override it.
        self.local_collection = resolve_local_collection()
        log.info(
            "[globus] orbit-globus %s serves 'globus' in place of radical.orbit's built-in "
            "plugin (globus-sdk %s, one status poll per %g s per session, local collection: %s)",
            self.version,
            globus_sdk.__version__,
            self.poll_interval,
            self.local_collection,
        )
        post, get = self.add_route_post, self.add_route_get
        post("submit/{sid}", self._route(self._submit_transfer))
        get("task/{sid}/{task_id}", self._route(self._get_task))
        post("wait/{sid}/{task_id}", self._route(self._task_wait))
        post("cancel/{sid}/{task_id}", self._route(self._cancel_task))
        get("tasks/{sid}", self._route(self._list_tasks))
        post("ls/{sid}", self._route(self._ls))
        post("stat/{sid}", self._route(self._stat))
        post("mkdir/{sid}", self._route(self._mkdir))
        post("rename/{sid}", self._route(self._rename))
        post("delete/{sid}", self._route(self._submit_delete))
        post("endpoint_search/{sid}", self._route(self._endpoint_search))
        get("endpoint/{sid}/{endpoint_id}", self._route(self._get_endpoint))

    # -- plumbing ----------------------------------------------------------------------

    @staticmethod
    async def _answer(work: Awaitable[Any]) -> Any:
        """The handler's result, or an error reply: 4xx/5xx with a one-line ``detail``."""
        try:
            return await work
        except PluginError as err:
            return wire.error_response(err)
        except HTTPException as err:  # radical.orbit's session-policy checks
            status = err.status_code
            error = PluginError(str(err.detail), code=f"HTTP{status}", status=status)
            return wire.error_response(error)
        except Exception:
            log.exception("[globus] internal error")
            return wire.error_response(PluginError("internal error in the globus plugin"))

    def _route(self, handler: Handler) -> Callable[[Any], Awaitable[Any]]:
        async def endpoint(request: Any) -> Any:
            async def work() -> Any:
                return await handler(request, await self._owned_session(request))

            return await self._answer(work())

        endpoint.__name__ = handler.__name__.lstrip("_")
        return endpoint

    async def _owned_session(self, request: Any) -> GlobusSession:
        sid = request.path_params["sid"]
        session, record = self._sessions.get(sid), self._records.get(sid)
        owner = record.owner if record is not None else None
        if not isinstance(session, GlobusSession) or owner not in (
            None,
            self._request_owner(request),
        ):
            raise _not_found(sid)  # the same answer for someone else's: existence stays secret
        if record is not None and self._is_expired(record, time.time()):
            await self._drop_session(sid)
            raise NotFoundError(f"session expired: {sid}", code=SESSION_EXPIRED, status=410)
        self._touch(sid)
        return session

    # -- sessions ----------------------------------------------------------------------

    async def register_session(self, request: Any) -> Any:
        """Create a session (with or without its credential), or give one its credential.

        ``get_plugin`` registers with no credential; the session then answers 401
        ``CredentialRequired`` until a ``register_session`` naming its ``sid`` brings one.
        """
        return await self._answer(self._register(request))

    async def _register(self, request: Any) -> dict[str, Any]:
        body = await wire.json_body(request, optional=True)
        credential = _credential(body)
        local_collection = wire.text(body, "local_collection")
        sid = body.get("sid")
        if sid is not None and (not isinstance(sid, str) or not sid or "/" in sid):
            raise BadRequestError("sid must be a non-empty string without '/'")
        sid, lifetime, ttl = self._normalize_session_policy(body)
        owner = self._request_owner(request)
        self._ensure_cleanup_task()

        session = self._sessions.get(sid) if sid else None
        if isinstance(session, GlobusSession):
            self._check_owner(sid, owner)
            self._check_policy_conflict(sid, lifetime, ttl)
            if credential is not None:
                await session.set_credential(credential)
            if local_collection:
                session.local_collection = local_collection
            self._touch(sid)
            return self._registered(session)

        sid = sid or f"session.{uuid.uuid4().hex}"
        session = self._create_session(
            sid,
            local_collection=local_collection or self.local_collection,
            poll_interval=self.poll_interval,
            retry_config=self.retry_config,
        )
        if credential is not None:
            try:
                await session.set_credential(credential)
            except Exception:
                await session.close()
                raise
        self._record_session(sid, session, lifetime, ttl, owner)
        log.info("[globus] registered session %s (credential: %s)", sid, session.has_credential)
        return self._registered(session)

    async def unregister_session(self, request: Any) -> Any:
        """Close a session: only its owner may (anyone else gets the missing-session 404)."""

        async def work() -> dict[str, Any]:
            session = await self._owned_session(request)
            await self._drop_session(session.sid)
            log.info("[globus] closed session %s", session.sid)
            return {"ok": True}

        return await self._answer(work())

    @staticmethod
    def _registered(session: GlobusSession) -> dict[str, Any]:
        return {
            "sid": session.sid,
            "local_collection": session.local_collection,
            "credential": session.has_credential,
        }

    # -- tasks -------------------------------------------------------------------------

    async def _submit_transfer(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        items = body.get("items")
        if not isinstance(items, list):
            raise BadRequestError(
                'items must be a list of {"source", "destination", "recursive"} objects'
            )
        return await session.submit_transfer(
            wire.text(body, "source"),
            wire.text(body, "destination"),
            items,
            label=wire.text(body, "label"),
            sync_level=body.get("sync_level"),
            **_options(body, "source", "destination", "items", "label", "sync_level"),
        )

    async def _submit_delete(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        paths = body.get("paths")
        if not isinstance(paths, list | str):
            raise BadRequestError("paths must be a list of paths")
        return await session.submit_delete(
            wire.text(body, "collection"),
            paths,
            recursive=bool(wire.flag(body.get("recursive"), "recursive")),
            label=wire.text(body, "label"),
            **_options(body, "collection", "paths", "recursive", "label"),
        )

    async def _get_task(self, request: Any, session: GlobusSession) -> Any:
        return await session.get_task(request.path_params["task_id"])

    async def _task_wait(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request, optional=True)
        task_id = request.path_params["task_id"]
        completed = await session.task_wait(
            task_id,
            timeout=wire.seconds(body.get("timeout"), "timeout", 60.0),
            polling_interval=wire.seconds(body.get("polling_interval"), "polling_interval", 10.0),
        )
        return {"task_id": task_id, "completed": completed}

    async def _cancel_task(self, request: Any, session: GlobusSession) -> Any:
        return await session.cancel_task(request.path_params["task_id"])

    async def _list_tasks(self, request: Any, session: GlobusSession) -> Any:
        query = request.query_params
        tasks = await session.list_tasks(
            limit=wire.integer(query.get("limit"), "limit", 100) or 0,
            offset=wire.integer(query.get("offset"), "offset", 0) or 0,
            filter=query.get("filter") or None,
            orderby=query.get("orderby") or None,
        )
        return {"tasks": tasks}

    # -- file system -------------------------------------------------------------------

    async def _ls(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        filters = body.get("filter")
        if filters is not None and not isinstance(filters, str | list | dict):
            raise BadRequestError("filter must be a string, a list or an object")
        orderby = body.get("orderby")
        if orderby is not None and not isinstance(orderby, str | list):
            raise BadRequestError("orderby must be a string or a list")
        document = await session.ls(
            wire.text(body, "collection"),
            wire.text(body, "path"),
            show_hidden=wire.flag(body.get("show_hidden"), "show_hidden"),
            limit=wire.integer(body.get("limit"), "limit", None),
            offset=wire.integer(body.get("offset"), "offset", None),
            filter=filters,
            orderby=orderby,
        )
        listing = {
            "collection": session.collection(wire.text(body, "collection")),
            "path": document.get("path"),
            "entries": document.get("DATA", []),
        }
        paging = ("offset", "limit", "total", "has_next_page")
        listing.update({key: document[key] for key in paging if key in document})
        return listing

    async def _stat(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        path = wire.text(body, "path", required=True)
        assert path is not None
        return await session.stat(wire.text(body, "collection"), path)

    async def _mkdir(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        path = wire.text(body, "path", required=True)
        assert path is not None
        return await session.mkdir(wire.text(body, "collection"), path)

    async def _rename(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request)
        oldpath = wire.text(body, "oldpath", required=True)
        newpath = wire.text(body, "newpath", required=True)
        assert oldpath is not None and newpath is not None
        return await session.rename(wire.text(body, "collection"), oldpath, newpath)

    # -- discovery ---------------------------------------------------------------------

    async def _endpoint_search(self, request: Any, session: GlobusSession) -> Any:
        body = await wire.json_body(request, optional=True)
        named = {key for key in body if key.startswith("filter_")}
        unknown = sorted(set(body) - named - {"limit", "offset"})
        if unknown:
            raise BadRequestError(f"unknown field(s): {', '.join(unknown)}")
        filters = {key: body[key] for key in named - {"filter_text"} if body[key] is not None}
        endpoints = await session.endpoint_search(
            wire.text(body, "filter_text"),
            limit=wire.integer(body.get("limit"), "limit", 25) or 0,
            offset=wire.integer(body.get("offset"), "offset", 0) or 0,
            **filters,
        )
        return {"endpoints": endpoints}

    async def _get_endpoint(self, request: Any, session: GlobusSession) -> Any:
        return await session.get_endpoint(request.path_params["endpoint_id"])
