"""GlobusClient: the application-side face of the ``globus`` plugin on a radical.orbit runtime.

A subclass of radical.orbit's own ``GlobusClient`` (same methods, same wire), returned by
``rt.get_plugin(endpoint, "globus")`` wherever ``orbit_globus.transfer`` is imported. On
top of radical.orbit's client it

- gives the session ``get_plugin`` opened its credential, instead of opening a second one;
- raises :mod:`orbit_globus.transfer.errors` exceptions (``RuntimeError`` subclasses with
  ``status_code``, as radical.orbit's raise), so ``ConsentRequiredError.required_scopes``
  and ``code`` are at hand;
- delivers to a notification callback only this client's own tasks and session errors:
  radical.orbit's broker sends every event of an endpoint's plugin to every subscriber
  (an event that arrives before its task's submit reply is held until the reply);
- takes Globus' paging and task options (``offset``, ``filter``, ``verify_checksum``, ...).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from radical.orbit.plugin_globus import GlobusClient as OrbitGlobusClient

from .errors import PluginError, error_from_json
from .notifications import SESSION_ERROR, TRANSFER_STATUS

Filter = str | dict[str, str | list[str]]
Callback = Callable[..., Any]
# The endpoint may report a task before its submit reply reaches this client: events of
# not-yet-known tasks wait here (bounded) until the reply names the task.
EARLY_EVENTS = 256


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


class GlobusClient(OrbitGlobusClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local_collection: str | None = None
        self._task_ids: set[str] = set()
        self._callbacks: dict[tuple[int, str | None], Callback] = {}
        self._early: deque[tuple[str, Callback, tuple[Any, ...]]] = deque(maxlen=EARLY_EVENTS)
        self._events_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GlobusClient(endpoint={self._endpoint_id!r}, sid={self._sid!r})"

    def __enter__(self) -> GlobusClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _raise(self, resp: Any, context: str = "") -> None:
        if not resp.is_error:
            return
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        raise error_from_json(resp.status_code, body)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        self._require_session()
        resp = self._http.post(self._url(f"{path}/{self._sid}"), json=body)
        self._raise(resp)
        return resp.json()

    # -- session -----------------------------------------------------------------------

    def register_session(  # type: ignore[override]
        self,
        access_token: str | None = None,
        refresh_token: str | None = None,
        client_id: str | None = None,
        local_collection: str | None = None,
        *,
        client_secret: str | None = None,
        sid: str | None = None,
        lifetime: str | None = None,
        ttl: float | None = None,
    ) -> dict[str, Any]:
        """Open a session, or give this client's session its (fresh) credential.

        ``refresh_token`` + ``client_id`` (+ ``client_secret`` for a confidential client)
        renew transparently; an ``access_token`` alone lapses, and registering again with
        a new one keeps the session's tasks and notifications.
        """
        payload = _drop_none(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
                "local_collection": local_collection,
                "sid": sid or self._sid,
                "lifetime": lifetime,
                "ttl": ttl,
            }
        )
        resp = self._http.post(self._url("register_session"), json=payload)
        self._raise(resp)
        reply = resp.json()
        self._sid = reply["sid"]
        self.local_collection = reply.get("local_collection")
        return dict(reply)

    # -- tasks -------------------------------------------------------------------------

    def submit_transfer(  # type: ignore[override]
        self,
        source: str | None,
        destination: str | None,
        items: Iterable[dict[str, Any]],
        label: str | None = None,
        sync_level: str | int | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Submit a transfer; ``items`` are ``{"source", "destination", "recursive"}`` dicts.

        ``options`` are Globus' (``verify_checksum``, ``preserve_timestamp``, ``deadline``...).
        """
        body = {
            "source": source,
            "destination": destination,
            "items": list(items),
            "label": label,
            "sync_level": sync_level,
            **options,
        }
        return self._submitted(self._post("submit", _drop_none(body)))

    def delete(  # type: ignore[override]
        self,
        collection: str | None,
        paths: str | Iterable[str],
        recursive: bool = False,
        label: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Submit a Globus delete task; returns ``{task_id, submission_id, status}``."""
        body = {
            "collection": collection,
            "paths": [paths] if isinstance(paths, str) else list(paths),
            "recursive": recursive,
            "label": label,
            **options,
        }
        return self._submitted(self._post("delete", _drop_none(body)))

    def _submitted(self, reply: dict[str, Any]) -> dict[str, Any]:
        task_id = str(reply["task_id"])
        with self._events_lock:
            self._task_ids.add(task_id)
            due = [(cb, args) for tid, cb, args in self._early if tid == task_id]
            kept = [event for event in self._early if event[0] != task_id]
            self._early.clear()
            self._early.extend(kept)
        for callback, args in due:  # what the endpoint said before the reply came
            callback(*args)
        return dict(reply)

    def list_tasks(  # type: ignore[override]
        self,
        limit: int = 100,
        *,
        offset: int = 0,
        filter: Filter | None = None,
        orderby: str | None = None,
    ) -> dict[str, Any]:
        """``{"tasks": [...]}``, newest first unless ``orderby`` says otherwise."""
        self._require_session()
        params = _drop_none(
            {"limit": limit, "offset": offset, "filter": format_filter(filter), "orderby": orderby}
        )
        resp = self._http.get(self._url(f"tasks/{self._sid}"), params=params)
        self._raise(resp)
        return dict(resp.json())

    # -- file system -------------------------------------------------------------------

    def ls(  # type: ignore[override]
        self, collection: str | None, path: str | None = None, **options: Any
    ) -> dict[str, Any]:
        """``{collection, path, entries}``; ``options``: show_hidden, limit, offset, filter..."""
        body = _drop_none({"collection": collection, "path": path, **options})
        return dict(self._post("ls", body))

    def stat(self, collection: str | None, path: str) -> dict[str, Any]:
        return dict(self._post("stat", {"collection": collection, "path": path}))

    def endpoint_search(  # type: ignore[override]
        self, filter_text: str | None = None, limit: int = 25, **filters: Any
    ) -> dict[str, Any]:
        """``{"endpoints": [...]}``; without filter text, the recently used collections."""
        body = _drop_none({"filter_text": filter_text, "limit": limit, **filters})
        return dict(self._post("endpoint_search", body))

    # -- notifications -----------------------------------------------------------------

    def register_notification_callback(self, callback: Callback, topic: str | None = None) -> None:
        """``callback(endpoint, plugin, topic, data)`` for this client's own events only."""

        def own_events(endpoint: str, plugin: str, event_topic: str, data: dict[str, Any]) -> None:
            args = (endpoint, plugin, event_topic, data)
            with self._events_lock:
                own = self._is_own(event_topic, data)
                if not own and event_topic == TRANSFER_STATUS and isinstance(data, dict):
                    self._early.append((str(data.get("task_id")), callback, args))
            if own:
                callback(*args)

        self._callbacks[(id(callback), topic)] = own_events
        super().register_notification_callback(own_events, topic=topic)

    def unregister_notification_callback(
        self, callback: Callback, topic: str | None = None
    ) -> None:
        own_events = self._callbacks.pop((id(callback), topic), None)
        if own_events is None:
            raise PluginError("that callback is not registered", code="NoSuchCallback")
        super().unregister_notification_callback(own_events, topic=topic)

    def _is_own(self, topic: str, data: Any) -> bool:
        if not isinstance(data, dict):
            return False
        if topic == TRANSFER_STATUS:
            return str(data.get("task_id")) in self._task_ids
        if topic == SESSION_ERROR:
            return data.get("sid") == self._sid
        return False
