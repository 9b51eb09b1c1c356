"""GlobusSession: one client's Globus credential and TransferClient, on the endpoint side.

A radical.orbit ``PluginSession``: the plugin creates it at ``register_session``, possibly
before the credential arrives (``get_plugin`` registers without one); until then every
Globus call answers 401 ``CredentialRequired``. globus-sdk is synchronous, so every call
runs in a worker thread (``asyncio.to_thread``) and the endpoint's event loop never blocks
on Globus. Retries (429, 5xx, dropped connections) and token renewal are the SDK's own,
tuned by ``retry_config``. Notifications leave through radical.orbit's ``notify``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import globus_sdk
from globus_sdk.transport import RetryConfig
from radical.orbit.plugin_session_base import PluginSession

from .credentials import Credential, build_authorizer
from .errors import CREDENTIAL_REQUIRED, AuthenticationError, BadRequestError, error_from_sdk
from .local_collection import LOCAL_ALIAS
from .notifications import SESSION_ERROR
from .poller import TERMINAL_STATUSES, TaskPoller

DEFAULT_POLL_INTERVAL = 10.0
# The most items Globus answers per page of task_list and of endpoint_search.
TASK_LIST_PAGE = 1000
ENDPOINT_SEARCH_PAGE = 100
# Task ids per polling task_list call: 100 ids keep the query string under 4 KB (a
# common proxy limit is 8 KB); a session with more unfinished tasks costs one call more
# per 100.
TASK_IDS_PER_POLL = 100
APP_NAME = "orbit-globus"
# endpoint_search without filter text: the caller's recently used collections, as the
# Globus web app shows them, rather than Globus' 400 for an unfiltered search.
DEFAULT_SEARCH_SCOPE = "recently-used"

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


async def _offload(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run blocking globus-sdk work in a worker thread; its errors become PluginErrors."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except Exception as err:
        raise error_from_sdk(err) from None


async def _build_transfer_client(
    credential: Credential, retry_config: RetryConfig | None
) -> globus_sdk.TransferClient:
    def build() -> globus_sdk.TransferClient:
        return globus_sdk.TransferClient(
            authorizer=build_authorizer(credential, retry_config),
            retry_config=retry_config,
            app_name=APP_NAME,
        )

    return await _offload(build)


class GlobusSession(PluginSession):
    """A Globus credential bound to one TransferClient, with a background task poller."""

    def __init__(
        self,
        sid: str,
        *,
        local_collection: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        retry_config: RetryConfig | None = None,
    ) -> None:
        super().__init__(sid)
        self.local_collection = local_collection
        self.retry_config = retry_config
        self.transfer_client: globus_sdk.TransferClient | None = None
        self.poller = TaskPoller(self._fetch_tasks, self._publish, poll_interval)
        self.closed = False

    @property
    def session_id(self) -> str:
        return self.sid

    @property
    def has_credential(self) -> bool:
        return self.transfer_client is not None

    async def set_credential(self, credential: Credential) -> None:
        """Take the first credential, or swap in a fresh one; watched tasks carry on.

        A refresh token is exchanged once here, off the event loop.
        """
        # A replaced client is left to the garbage collector: a poll may still be using it.
        self.transfer_client = await _build_transfer_client(credential, self.retry_config)
        self.poller.start()
        self.poller.poll_soon()

    def __repr__(self) -> str:
        return f"GlobusSession(sid={self.sid!r}, local_collection={self.local_collection!r})"

    async def close(self) -> dict[str, Any]:
        if not self.closed:
            self.closed = True
            await self.poller.stop()
            if self.transfer_client is not None:
                await asyncio.to_thread(self.transfer_client.close)
        return await super().close()

    def _publish(self, topic: str, data: dict[str, Any]) -> None:
        # radical.orbit fans an event out to every subscriber of this endpoint's plugin;
        # the sid lets a client keep only its own session's errors (task events carry
        # their task_id).
        if topic == SESSION_ERROR:
            data = {**data, "sid": self.sid}
        self.notify(topic, data)

    def _client(self) -> globus_sdk.TransferClient:
        if self.transfer_client is None:
            raise AuthenticationError(
                "this session has no Globus credential yet: call "
                "register_session(access_token=...) or "
                "register_session(refresh_token=..., client_id=...)",
                code=CREDENTIAL_REQUIRED,
            )
        return self.transfer_client

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One TransferClient call by name, offloaded."""
        return await _offload(getattr(self._client(), method), *args, **kwargs)

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
        if not isinstance(collection, str):
            raise BadRequestError('a collection is a UUID string or "local"')
        return collection

    # -- tasks -------------------------------------------------------------------------

    async def _fetch_tasks(self, task_ids: list[str]) -> list[dict[str, Any]]:
        client = self._client()

        def fetch() -> list[dict[str, Any]]:
            documents: list[dict[str, Any]] = []
            for start in range(0, len(task_ids), TASK_IDS_PER_POLL):
                chunk = task_ids[start : start + TASK_IDS_PER_POLL]
                page = client.task_list(filter={"task_id": chunk}, limit=len(chunk))
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
        self._client()
        data = globus_sdk.TransferData(
            self.collection(source),
            self.collection(destination),
            **_given({"label": label, "sync_level": sync_level, **options}),
        )
        count = 0
        for item in items:
            if not isinstance(item, dict) or not item.get("source") or not item.get("destination"):
                raise BadRequestError(
                    'each item is a {"source", "destination", "recursive"} object'
                )
            data.add_item(
                str(item["source"]),
                str(item["destination"]),
                **_given({"recursive": item.get("recursive")}),
            )
            count += 1
        if not count:
            raise BadRequestError("a transfer needs at least one item")
        return await self._submit("submit_transfer", data)

    async def submit_delete(
        self,
        collection: str | None,
        paths: Iterable[str],
        recursive: bool = False,
        label: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        _check_options(options, DELETE_OPTIONS)
        self._client()
        paths = [paths] if isinstance(paths, str) else list(paths)
        if not paths or not all(isinstance(path, str) and path for path in paths):
            raise BadRequestError("delete needs a non-empty list of paths")
        data = globus_sdk.DeleteData(
            self.collection(collection),
            recursive=recursive,
            **_given({"label": label, **options}),
        )
        for path in paths:
            data.add_item(path)
        return await self._submit("submit_delete", data)

    async def _submit(self, method: str, data: Any) -> dict[str, Any]:
        result = await self._call(method, data)
        task_id = str(result["task_id"])
        self.poller.watch(task_id)
        # "status" is the task's, as radical.orbit's plugin answers; Globus' own
        # acknowledgement ("Accepted", "Duplicate") is in "code".
        return {
            "task_id": task_id,
            "submission_id": result.get("submission_id"),
            "status": "ACTIVE",
            "code": result.get("code"),
            "message": result.get("message"),
        }

    async def get_task(self, task_id: str) -> dict[str, Any]:
        return dict((await self._call("get_task", task_id)).data)

    async def task_wait(self, task_id: str, timeout: float, polling_interval: float) -> bool:
        """Whether the task ended within ``timeout`` seconds.

        Checks Globus at most every ``polling_interval`` seconds, and at once when the
        session's own poll sees the task end (so a wait costs no extra polling).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            task = await self.get_task(task_id)
            if task.get("status") in TERMINAL_STATUSES:
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            await self.poller.wait_finished(task_id, min(polling_interval, left))

    async def cancel_task(self, task_id: str) -> dict[str, Any]:
        result = dict((await self._call("cancel_task", task_id)).data)
        self.poller.poll_soon()  # the final notification should not wait a full interval
        return result

    async def list_tasks(
        self,
        limit: int = 100,
        offset: int = 0,
        filter: str | dict[str, Any] | None = None,
        orderby: str | list[str] | None = None,
    ) -> list[dict[str, Any]]:
        client = self._client()

        def fetch() -> list[dict[str, Any]]:
            return _collect(
                client.task_list,
                limit,
                offset,
                TASK_LIST_PAGE,
                **_given({"filter": filter, "orderby": orderby}),
            )

        return await _offload(fetch)

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
        """The Globus ``file_list`` document of ``path``."""
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
        return dict((await self._call("operation_ls", target, **options)).data)

    async def mkdir(self, collection: str | None, path: str) -> dict[str, Any]:
        target = self.collection(collection)
        return dict((await self._call("operation_mkdir", target, path)).data)

    async def rename(self, collection: str | None, oldpath: str, newpath: str) -> dict[str, Any]:
        target = self.collection(collection)
        return dict((await self._call("operation_rename", target, oldpath, newpath)).data)

    async def stat(self, collection: str | None, path: str) -> dict[str, Any]:
        target = self.collection(collection)
        return dict((await self._call("operation_stat", target, path)).data)

    # -- discovery ---------------------------------------------------------------------

    async def endpoint_search(
        self,
        filter_text: str | None = None,
        limit: int = 25,
        offset: int = 0,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        client = self._client()
        if not filter_text and "filter_scope" not in filters:
            filters["filter_scope"] = DEFAULT_SEARCH_SCOPE

        def fetch() -> list[dict[str, Any]]:
            return _collect(
                client.endpoint_search,
                limit,
                offset,
                ENDPOINT_SEARCH_PAGE,
                **_given({"filter_fulltext": filter_text or None, **filters}),
            )

        return await _offload(fetch)

    async def get_endpoint(self, endpoint_id: str | None) -> dict[str, Any]:
        target = self.collection(endpoint_id)
        return dict((await self._call("get_endpoint", target)).data)
