"""The poller: one filtered task_list per interval for all tasks, notifications on change."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orbit_globus.transfer.poller import TaskPoller

from .conftest import NOTIFICATION_FIELDS


class FakeTransfer:
    """Stands in for the session's fetch: records every call and what it asked for."""

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.calls: list[list[str]] = []
        self.fail_with: Exception | None = None

    def add(self, task_id: str, status: str = "ACTIVE") -> None:
        self.tasks[task_id] = {
            "task_id": task_id,
            "status": status,
            "label": f"label {task_id}",
            "bytes_transferred": 0,
            "files_transferred": 0,
            "nice_status": "Queued",
        }

    async def fetch(self, task_ids: list[str]) -> list[dict[str, Any]]:
        self.calls.append(list(task_ids))
        if self.fail_with is not None:
            raise self.fail_with
        return [dict(self.tasks[task_id]) for task_id in task_ids if task_id in self.tasks]


class Published:
    """Stands in for the session's notify: keeps every (topic, data) published."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, topic: str, data: dict[str, Any]) -> None:
        self.events.append((topic, data))

    async def first(self) -> tuple[str, dict[str, Any]]:
        while not self.events:
            await asyncio.sleep(0.01)
        return self.events[0]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_one_fetch_covers_every_watched_task():
    async def scenario():
        fake, log = FakeTransfer(), Published()
        poller = TaskPoller(fake.fetch, log, interval=60)
        for n in range(100):
            fake.add(f"t{n}")
            poller.watch(f"t{n}")
        await poller.poll_once()
        return fake, log

    fake, log = run(scenario())
    assert len(fake.calls) == 1
    assert sorted(fake.calls[0]) == sorted(f"t{n}" for n in range(100))
    assert len(log.events) == 100  # a first status notification per task


def test_notifications_follow_changes_and_end_with_the_final_state():
    async def scenario():
        fake, log = FakeTransfer(), Published()
        poller = TaskPoller(fake.fetch, log, interval=60)
        fake.add("t1")
        poller.watch("t1")
        await poller.poll_once()
        await poller.poll_once()  # unchanged: no new notification
        fake.tasks["t1"].update(bytes_transferred=10, files_transferred=1)
        await poller.poll_once()
        fake.tasks["t1"].update(status="SUCCEEDED", nice_status=None, files_transferred=2)
        await poller.poll_once()
        await poller.poll_once()  # finished tasks are no longer fetched
        return fake, log, poller

    fake, log, poller = run(scenario())
    events = [data for _topic, data in log.events]
    assert [(e["status"], e["files_transferred"]) for e in events] == [
        ("ACTIVE", 0),
        ("ACTIVE", 1),
        ("SUCCEEDED", 2),
    ]
    assert set(events[0]) == NOTIFICATION_FIELDS
    assert len(fake.calls) == 4
    assert poller.watched == []


def test_idle_poller_makes_no_calls_and_wakes_on_the_first_task():
    async def scenario():
        fake, log = FakeTransfer(), Published()
        poller = TaskPoller(fake.fetch, log, interval=60)
        poller.start()
        await asyncio.sleep(0.2)
        calls_while_idle = len(fake.calls)
        fake.add("t1")
        poller.watch("t1")
        first = await log.first()
        await poller.stop()
        return calls_while_idle, first

    calls_while_idle, (topic, data) = run(scenario())
    assert calls_while_idle == 0
    assert (topic, data["task_id"]) == ("transfer_status", "t1")


def test_poll_failures_are_reported_once_and_polling_continues():
    async def scenario():
        fake, log = FakeTransfer(), Published()
        poller = TaskPoller(fake.fetch, log, interval=60)
        fake.add("t1")
        poller.watch("t1")
        fake.fail_with = ConnectionError("boom")
        await poller.poll_once()
        await poller.poll_once()
        fake.fail_with = None
        await poller.poll_once()
        return log

    topics = [topic for topic, _data in run(scenario()).events]
    assert topics == ["session_error", "transfer_status"]


def test_a_poll_interval_must_be_positive():
    with pytest.raises(ValueError):
        TaskPoller(FakeTransfer().fetch, Published(), interval=0)


def test_a_session_asks_for_at_most_100_task_ids_per_call():
    from orbit_globus.transfer.session import GlobusSession

    class FakeTransferClient:
        def __init__(self) -> None:
            self.filters: list[list[str]] = []

        def task_list(self, *, filter: dict, limit: int) -> list[dict[str, Any]]:
            self.filters.append(filter["task_id"])
            return [{"task_id": task_id, "status": "ACTIVE"} for task_id in filter["task_id"]]

    fake = FakeTransferClient()
    session = GlobusSession("sid")
    session.transfer_client = fake  # type: ignore[assignment]
    ids = [f"t{n}" for n in range(250)]
    documents = run(session._fetch_tasks(ids))
    assert [len(chunk) for chunk in fake.filters] == [100, 100, 50]
    assert [doc["task_id"] for doc in documents] == ids
