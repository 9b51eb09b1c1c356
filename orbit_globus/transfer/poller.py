"""The background task watcher of one session.

All of a session's unfinished tasks are fetched with ONE filtered ``task_list`` call per
interval (not one ``get_task`` per task). A ``transfer_status`` notification is published
whenever a task's status or progress changes, and a final one when it ends (SUCCEEDED or
FAILED, which includes cancelled). The watcher sleeps without calling Globus while the
session has nothing in flight. ``wait_finished`` lets a ``task_wait`` ride these polls
instead of polling Globus itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import PluginError, error_from_sdk
from .notifications import SESSION_ERROR, TRANSFER_STATUS, Publish, transfer_status

TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED"})

log = logging.getLogger(__name__)

FetchTasks = Callable[[list[str]], Awaitable[list[dict[str, Any]]]]


class TaskPoller:
    def __init__(self, fetch_tasks: FetchTasks, publish: Publish, interval: float) -> None:
        if interval <= 0:
            raise ValueError("poll interval must be positive")
        self._fetch_tasks = fetch_tasks
        self._publish = publish
        self.interval = interval
        self._last_seen: dict[str, dict[str, Any]] = {}
        self._watched: dict[str, None] = {}  # insertion-ordered set
        self._finished: dict[str, asyncio.Event] = {}
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._last_error_code: str | None = None
        self.polls = 0

    @property
    def watched(self) -> list[str]:
        return list(self._watched)

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    def watch(self, task_id: str) -> None:
        was_idle = not self._watched
        self._watched[task_id] = None
        if was_idle:
            self._wake.set()  # first task after idling: look at it now

    def poll_soon(self) -> None:
        """Poll without waiting for the interval (after a cancel, for a prompt final event)."""
        self._wake.set()

    async def wait_finished(self, task_id: str, timeout: float) -> None:
        """Return when a poll saw ``task_id`` end, or after ``timeout`` seconds."""
        finished = self._finished.setdefault(task_id, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), timeout)
        finally:
            if finished.is_set() or task_id not in self._watched:
                self._finished.pop(task_id, None)

    async def _run(self) -> None:
        while True:
            if not self._watched:
                await self._wake.wait()
            self._wake.clear()
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def poll_once(self) -> None:
        task_ids = self.watched
        if not task_ids:
            return
        self.polls += 1
        try:
            documents = await self._fetch_tasks(task_ids)
        except Exception as err:  # keep watching; tell the client once per kind of failure
            self._report(error_from_sdk(err))
            return
        self._last_error_code = None
        for document in documents:
            self._observe(document)

    def _observe(self, task: dict[str, Any]) -> None:
        task_id = str(task.get("task_id"))
        if task_id not in self._watched:
            return
        snapshot = transfer_status(task)
        if self._last_seen.get(task_id) != snapshot:
            self._last_seen[task_id] = snapshot
            self._publish(TRANSFER_STATUS, snapshot)
        if snapshot["status"] in TERMINAL_STATUSES:
            del self._watched[task_id]
            self._last_seen.pop(task_id, None)
            finished = self._finished.get(task_id)
            if finished is not None:
                finished.set()

    def _report(self, error: PluginError) -> None:
        log.warning("task poll failed: %s", error)
        if error.code != self._last_error_code:
            self._last_error_code = error.code
            self._publish(SESSION_ERROR, error.to_json())
