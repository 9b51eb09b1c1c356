"""GlobusSession: one client's Globus credential and TransferClient, on the endpoint side.

globus-sdk is synchronous, so every call runs in a worker thread (``asyncio.to_thread``)
and the endpoint's event loop never blocks on Globus. Retries (429, 5xx, dropped
connections) and token renewal are the SDK's own, tuned by ``retry_config``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import globus_sdk
from globus_sdk.transport import RetryConfig

from .credentials import Credential, build_authorizer
from .errors import BadRequestError, error_from_sdk
from .local_collection import LOCAL_ALIAS
from .notifications import NotificationLog
from .poller import TaskPoller

DEFAULT_POLL_INTERVAL = 10.0
# The most items Globus answers per page of task_list and of endpoint_search.
TASK_LIST_PAGE = 1000
ENDPOINT_SEARCH_PAGE = 100
# Task ids per polling task_list call: 100 ids keep the query string under 4 KB (a
# common proxy limit is 8 KB); a session with more unfinished tasks costs one call more
# per 100.
TASK_IDS_PER_POLL = 100
APP_NAME = "orbit-globus"

TRANSFER_OPTIONS = frozenset(
    {
        "verify_checksum",
        "preserve_timestamp",
        "encrypt_data",
        "deadline",
        "skip_source_errors",
        "fail_on_quota_errors",
        "delete_destination_extra",
    }
)
DELETE_OPTIONS = frozenset({"ignore_missing", "interpret_globs", "deadline"})

P = ParamSpec("P")
R = TypeVar("R")


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """Drop unset options so the SDK leaves them out of the document (its MISSING)."""
    return {key: value for key, value in options.items() if value is not None}


def _check_options(options: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise BadRequestError(f"unknown option(s): {', '.join(unknown)}")


def _collect(
    method: Callable[..., Any], limit: int, offset: int, page_max: int, **kwargs: Any
) -> list[dict[str, Any]]:
    """Up to ``limit`` items from ``offset`` of a limit/offset-paged Transfer listing.

    (The SDK's paginators always start at offset 0, so a caller-chosen offset needs this.)
    """
    if limit < 0 or offset < 0:
        raise BadRequestError("limit and offset must not be negative")
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        page = method(limit=min(page_max, limit - len(items)), offset=offset, **kwargs)
        batch = [dict(item) for item in page]
        items.extend(batch)
        offset += len(batch)
        more = page.get("has_next_page", offset < page.get("total", 0))
        if not batch or not more:
            break
    return items


async def _build_transfer_client(
    credential: Credential, retry_config: RetryConfig | None
) -> globus_sdk.TransferClient:
    def build() -> globus_sdk.TransferClient:
        return globus_sdk.TransferClient(
            authorizer=build_authorizer(credential, retry_config),
            retry_config=retry_config,
            app_name=APP_NAME,
        )

    try:
        return await asyncio.to_thread(build)
    except Exception as err:
        raise error_from_sdk(err) from None


class GlobusSession:
    """A Globus credential bound to one TransferClient, with a background task poller."""

    def __init__(
        self,
        transfer_client: globus_sdk.TransferClient,
        *,
        local_collection: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        session_id: str | None = None,
    ) -> None:
        self.session_id = session_id or str(uuid.uuid4())
        self.transfer_client = transfer_client
        self.local_collection = local_collection
        self.notifications = NotificationLog()
        self.poller = TaskPoller(self._fetch_tasks, self.notifications, poll_interval)
        self.closed = False

    @classmethod
    async def open(
        cls,
        credential: Credential,
        *,
        local_collection: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        retry_config: RetryConfig | None = None,
    ) -> GlobusSession:
        """Build the session (a refresh token is exchanged once, off the event loop)."""
        client = await _build_transfer_client(credential, retry_config)
        session = cls(client, local_collection=local_collection, poll_interval=poll_interval)
        session.poller.start()
        return session

    async def renew(self, credential: Credential, retry_config: RetryConfig | None = None) -> None:
        """Swap in a fresh credential; watched tasks and the event stream carry on."""
        # The old client is left to the garbage collector: a poll may still be using it.
        self.transfer_client = await _build_transfer_client(credential, retry_config)
        self.poller.poll_soon()

    def __repr__(self) -> str:
        return f"GlobusSession(id={self.session_id!r}, local_collection={self.local_collection!r})"

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.poller.stop()
        await self.notifications.close()
        await asyncio.to_thread(self.transfer_client.close)

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run one blocking SDK call in a worker thread; SDK errors become PluginErrors."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except Exception as err:
            raise error_from_sdk(err) from None

    def collection(self, collection: str | None) -> str:
        """Resolve ``"local"`` or an omitted collection to this session's local collection."""
        if collection in (None, "", LOCAL_ALIAS):
            if not self.local_collection:
                raise BadRequestError(
                    "no local collection is configured: pass a collection UUID, set "
                    "RADICAL_ORBIT_GLOBUS_COLLECTION, or register with local_collection",
                    code="NoLocalCollection",
                )
            return self.local_collection
        assert collection is not None
        return collection

    # -- tasks -------------------------------------------------------------------------

    async def _fetch_tasks(self, task_ids: list[str]) -> list[dict[str, Any]]:
        def fetch() -> list[dict[str, Any]]:
            documents: list[dict[str, Any]] = []
            for start in range(0, len(task_ids), TASK_IDS_PER_POLL):
                chunk = task_ids[start : start + TASK_IDS_PER_POLL]
                page = self.transfer_client.task_list(filter={"task_id": chunk}, limit=len(chunk))
                documents.extend(dict(task) for task in page)
            return documents

        return await asyncio.to_thread(fetch)

    async def submit_transfer(
        self,
        source: str | None,
        destination: str | None,
        items: Iterable[dict[str, Any]],
        label: str | None = None,
        sync_level: str | int | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        _check_options(options, TRANSFER_OPTIONS)
        data = globus_sdk.TransferData(
            self.collection(source),
            self.collection(destination),
            **_given({"label": label, "sync_level": sync_level, **options}),
        )
        count = 0
        for item in items:
            if not isinstance(item, dict) or not item.get("source") or not item.get("destination"):
                raise BadRequestError('each item needs "source" and "destination" paths')
            data.add_item(
                str(item["source"]),
                str(item["destination"]),
                **_given({"recursive": item.get("recursive")}),
            )
            count += 1
        if not count:
            raise BadRequestError("a transfer needs at least one item")
        return await self._submit(self.transfer_client.submit_transfer, data)

    async def submit_delete(
        self,
        collection: str | None,
        paths: Iterable[str],
        recursive: bool = False,
        label: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        _check_options(options, DELETE_OPTIONS)
        data = globus_sdk.DeleteData(
            self.collection(collection),
            recursive=recursive,
            **_given({"label": label, **options}),
        )
        paths = [paths] if isinstance(paths, str) else list(paths)
        if not paths or not all(isinstance(path, str) and path for path in paths):
            raise BadRequestError("delete needs a non-empty list of paths")
        for path in paths:
            data.add_item(path)
        return await self._submit(self.transfer_client.submit_delete, data)

    async def _submit(self, submit: Callable[[Any], Any], data: Any) -> dict[str, Any]:
        result = await self._call(submit, data)
        task_id = str(result["task_id"])
        self.poller.watch(task_id)
        return {
            "task_id": task_id,
            "submission_id": result.get("submission_id"),
            "status": result.get("code"),
            "message": result.get("message"),
        }

    async def get_task(self, task_id: str) -> dict[str, Any]:
        return dict((await self._call(self.transfer_client.get_task, task_id)).data)

    async def cancel_task(self, task_id: str) -> dict[str, Any]:
        result = dict((await self._call(self.transfer_client.cancel_task, task_id)).data)
        self.poller.poll_soon()  # the final notification should not wait a full interval
        return result

    async def list_tasks(
        self,
        limit: int = 100,
        offset: int = 0,
        filter: str | dict[str, Any] | None = None,
        orderby: str | list[str] | None = None,
    ) -> list[dict[str, Any]]:
        def fetch() -> list[dict[str, Any]]:
            return _collect(
                self.transfer_client.task_list,
                limit,
                offset,
                TASK_LIST_PAGE,
                **_given({"filter": filter, "orderby": orderby}),
            )

        return await self._call(fetch)

    # -- file system -------------------------------------------------------------------

    async def ls(
        self,
        collection: str | None,
        path: str | None = None,
        *,
        show_hidden: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        filter: str | dict[str, Any] | list[Any] | None = None,
        orderby: str | list[str] | None = None,
    ) -> dict[str, Any]:
        options = _given(
            {
                "path": path,
                "show_hidden": show_hidden,
                "limit": limit,
                "offset": offset,
                "filter": filter,
                "orderby": orderby,
            }
        )
        target = self.collection(collection)
        return dict((await self._call(self.transfer_client.operation_ls, target, **options)).data)

    async def mkdir(self, collection: str | None, path: str) -> dict[str, Any]:
        target = self.collection(collection)
        return dict((await self._call(self.transfer_client.operation_mkdir, target, path)).data)

    async def rename(self, collection: str | None, oldpath: str, newpath: str) -> dict[str, Any]:
        target = self.collection(collection)
        result = await self._call(self.transfer_client.operation_rename, target, oldpath, newpath)
        return dict(result.data)

    async def stat(self, collection: str | None, path: str) -> dict[str, Any]:
        target = self.collection(collection)
        return dict((await self._call(self.transfer_client.operation_stat, target, path)).data)

    # -- discovery ---------------------------------------------------------------------

    async def endpoint_search(
        self,
        filter_text: str | None = None,
        limit: int = 25,
        offset: int = 0,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        def fetch() -> list[dict[str, Any]]:
            return _collect(
                self.transfer_client.endpoint_search,
                limit,
                offset,
                ENDPOINT_SEARCH_PAGE,
                **_given({"filter_fulltext": filter_text, **filters}),
            )

        return await self._call(fetch)

    async def get_endpoint(self, endpoint_id: str | None) -> dict[str, Any]:
        target = self.collection(endpoint_id)
        return dict((await self._call(self.transfer_client.get_endpoint, target)).data)
