"""GlobusClient: the application-side, synchronous face of the ``globus`` plugin.

Every method is one HTTP call to the endpoint host (which holds the Globus credential);
errors come back as :mod:`orbit_globus.transfer.errors` exceptions. Notifications arrive
through ``on_notification(callback)`` or ``for note in client.notifications(): ...``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .errors import BadRequestError, PluginError
from .events import Callback, EventPump, Notification
from .poller import TERMINAL_STATUSES

if TYPE_CHECKING:
    from orbit_globus.endpoint.client import EndpointClient

PREFIX = "/globus"
Filter = str | dict[str, str | list[str]]


def format_filter(value: Filter | None) -> str | None:
    """Transfer filter syntax: ``{"status": ["ACTIVE", "FAILED"]}`` -> ``status:ACTIVE,FAILED``."""
    if value is None or isinstance(value, str):
        return value
    clauses = []
    for key, item in value.items():
        text = item if isinstance(item, str) else ",".join(str(part) for part in item)
        clauses.append(f"{key}:{text}")
    return "/".join(clauses)


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class GlobusClient:
    def __init__(self, endpoint: EndpointClient, *, long_poll: float = 10.0) -> None:
        self.endpoint = endpoint
        self.long_poll = long_poll
        self.session_id: str | None = None
        self.local_collection: str | None = None
        self._pump: EventPump | None = None
        self._closing = threading.Event()

    def __repr__(self) -> str:
        return f"GlobusClient(endpoint={self.endpoint.url!r}, session_id={self.session_id!r})"

    def __enter__(self) -> GlobusClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------

    def _session_path(self, suffix: str = "") -> str:
        if self.session_id is None:
            raise PluginError("no session: call register_session() first", code="NoSession")
        return f"{PREFIX}/sessions/{self.session_id}{suffix}"

    def _call(self, method: str, suffix: str, **kwargs: Any) -> Any:
        return self.endpoint.request(method, self._session_path(suffix), **kwargs)

    # -- session -----------------------------------------------------------------------

    def register_session(
        self,
        access_token: str | None = None,
        refresh_token: str | None = None,
        client_id: str | None = None,
        local_collection: str | None = None,
        *,
        client_secret: str | None = None,
    ) -> dict[str, Any]:
        """Open a session with a Globus credential (or renew this client's session's one).

        ``refresh_token`` + ``client_id`` (+ ``client_secret`` for a confidential client)
        renew transparently; an ``access_token`` alone lapses and needs a new registration,
        which keeps the session's tasks and notifications.
        """
        credential = _drop_none(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
                "local_collection": local_collection,
            }
        )
        if self.session_id is not None:
            reply = self._call("POST", "/credential", json=credential)
        else:
            reply = self.endpoint.request("POST", f"{PREFIX}/sessions", json=credential)
        self.session_id = reply["session_id"]
        self.local_collection = reply.get("local_collection")
        self._closing.clear()
        return dict(reply)

    def close_session(self) -> None:
        if self.session_id is None:
            return
        self._closing.set()
        try:
            self._call("DELETE", "")
        finally:
            if self._pump is not None:
                self._pump.stop()
                self._pump = None
            self.session_id = None

    def close(self) -> None:
        """Close the session (if any); the endpoint connection stays with its owner."""
        self._closing.set()
        with contextlib.suppress(PluginError):  # already gone on the host
            self.close_session()

    # -- tasks -------------------------------------------------------------------------

    def submit_transfer(
        self,
        source: str | None,
        destination: str | None,
        items: Iterable[dict[str, Any]],
        label: str | None = None,
        sync_level: str | int | None = None,
        *,
        verify_checksum: bool | None = None,
        preserve_timestamp: bool | None = None,
        encrypt_data: bool | None = None,
        deadline: str | None = None,
        skip_source_errors: bool | None = None,
        fail_on_quota_errors: bool | None = None,
        delete_destination_extra: bool | None = None,
    ) -> dict[str, Any]:
        """Submit a transfer; ``items`` are ``{"source", "destination", "recursive"}`` dicts."""
        body = _drop_none(
            {
                "source": source,
                "destination": destination,
                "items": list(items),
                "label": label,
                "sync_level": sync_level,
                "verify_checksum": verify_checksum,
                "preserve_timestamp": preserve_timestamp,
                "encrypt_data": encrypt_data,
                "deadline": deadline,
                "skip_source_errors": skip_source_errors,
                "fail_on_quota_errors": fail_on_quota_errors,
                "delete_destination_extra": delete_destination_extra,
            }
        )
        return dict(self._call("POST", "/transfers", json=body))

    def delete(
        self,
        collection: str | None,
        paths: str | Iterable[str],
        recursive: bool = False,
        label: str | None = None,
        *,
        ignore_missing: bool | None = None,
        interpret_globs: bool | None = None,
        deadline: str | None = None,
    ) -> dict[str, Any]:
        """Submit a Globus delete task; returns ``{task_id, submission_id, status}``."""
        body = _drop_none(
            {
                "collection": collection,
                "paths": [paths] if isinstance(paths, str) else list(paths),
                "recursive": recursive,
                "label": label,
                "ignore_missing": ignore_missing,
                "interpret_globs": interpret_globs,
                "deadline": deadline,
            }
        )
        return dict(self._call("POST", "/deletes", json=body))

    def get_task(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/tasks/{task_id}"))

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/tasks/{task_id}/cancel"))

    def list_tasks(
        self,
        limit: int = 100,
        *,
        offset: int = 0,
        filter: Filter | None = None,
        orderby: str | list[str] | None = None,
    ) -> list[dict[str, Any]]:
        params = _drop_none(
            {"limit": limit, "offset": offset, "filter": format_filter(filter), "orderby": orderby}
        )
        return list(self._call("GET", "/tasks", params=params))

    def task_wait(
        self,
        task_id: str,
        timeout: float = 60,
        polling_interval: float = 10,
        *,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Wait until the task ends: True if it did, False on timeout or cancellation.

        Bounded by ``timeout``; ``cancel.set()`` from another thread (or ``close()``) ends
        the wait early.
        """
        if timeout <= 0 or polling_interval <= 0:
            raise BadRequestError("timeout and polling_interval must be positive")
        stop = cancel or threading.Event()
        deadline = time.monotonic() + timeout
        while True:
            if self._closing.is_set() or stop.is_set():
                return False
            if self.get_task(task_id).get("status") in TERMINAL_STATUSES:
                return True
            if time.monotonic() >= deadline:
                return False
            if not self._sleep(min(polling_interval, deadline - time.monotonic()), stop):
                return False

    def _sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Sleep ``seconds``; False as soon as ``stop`` is set or the client closes."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if stop.wait(min(left, 0.1)) or self._closing.is_set():
                return False
        return True

    # -- file system -------------------------------------------------------------------

    def ls(
        self, collection: str | None = None, path: str | None = None, **options: Any
    ) -> list[dict[str, Any]]:
        """The entries of a directory (``DATA`` of the file list); options as ``ls_document``."""
        return list(self.ls_document(collection, path, **options)["DATA"])

    def ls_document(
        self,
        collection: str | None = None,
        path: str | None = None,
        *,
        show_hidden: bool | None = None,
        limit: int | None = None,
        offset: int | None = None,
        filter: Filter | list[Filter] | None = None,
        orderby: str | list[str] | None = None,
    ) -> dict[str, Any]:
        """The whole file list document (with ``path``, ``total``, ``offset``...)."""
        filters = filter if isinstance(filter, list) else [filter] if filter else None
        params = _drop_none(
            {
                "collection": collection,
                "path": path,
                "show_hidden": None if show_hidden is None else str(show_hidden).lower(),
                "limit": limit,
                "offset": offset,
                "filter": [format_filter(item) for item in filters] if filters else None,
                "orderby": orderby,
            }
        )
        return dict(self._call("GET", "/ls", params=params))

    def stat(self, collection: str | None, path: str) -> dict[str, Any]:
        return dict(
            self._call("GET", "/stat", params=_drop_none({"collection": collection, "path": path}))
        )

    def mkdir(self, collection: str | None, path: str) -> dict[str, Any]:
        return dict(self._call("POST", "/mkdir", json={"collection": collection, "path": path}))

    def rename(self, collection: str | None, oldpath: str, newpath: str) -> dict[str, Any]:
        body = {"collection": collection, "oldpath": oldpath, "newpath": newpath}
        return dict(self._call("POST", "/rename", json=body))

    # -- discovery ---------------------------------------------------------------------

    def endpoint_search(
        self,
        filter_text: str | None = None,
        limit: int = 25,
        *,
        offset: int = 0,
        filter_scope: str | None = None,
        filter_owner_id: str | None = None,
        filter_entity_type: str | None = None,
        filter_non_functional: bool | None = None,
    ) -> list[dict[str, Any]]:
        params = _drop_none(
            {
                "filter_text": filter_text,
                "limit": limit,
                "offset": offset,
                "filter_scope": filter_scope,
                "filter_owner_id": filter_owner_id,
                "filter_entity_type": filter_entity_type,
                "filter_non_functional": (
                    None if filter_non_functional is None else str(filter_non_functional).lower()
                ),
            }
        )
        return list(self._call("GET", "/endpoints", params=params))

    def get_endpoint(self, endpoint_id: str | None = None) -> dict[str, Any]:
        return dict(self._call("GET", f"/endpoints/{endpoint_id or 'local'}"))

    # -- notifications -----------------------------------------------------------------

    def _fetch_events(self, after: int, timeout: float) -> dict[str, Any]:
        params = {"after": after, "timeout": timeout}
        return dict(self._call("GET", "/events", params=params, timeout=timeout + 30))

    def _events(self) -> EventPump:
        if self._pump is None:
            self._session_path()  # fail early without a session
            self._pump = EventPump(self._fetch_events, self.long_poll)
        return self._pump

    def on_notification(self, callback: Callback) -> None:
        """Call ``callback(topic, data)`` (in a background thread) for each notification."""
        self._events().add_callback(callback)

    def notifications(self, timeout: float | None = None) -> Iterator[Notification]:
        """Iterate ``Notification(seq, topic, data)``; ends after ``timeout`` s of silence."""
        return self._events().iterate(timeout)
