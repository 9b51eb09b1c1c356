"""A task's first notification can overtake its submit reply (the endpoint polls while the
reply travels back through the broker): the client holds it until the reply names the task.

The broker connection is a recorder of the callback the client subscribes: this checks the
client's ordering rule alone; the real broker path is in test_transfer_e2e.py."""

from __future__ import annotations

from typing import Any

from orbit_globus.transfer import GlobusClient
from orbit_globus.transfer.client import EARLY_EVENTS


class SubscriptionRecorder:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def register_callback(self, **subscription: Any) -> None:
        self.callbacks.append(subscription["callback"])

    def deliver(self, task_id: str, status: str) -> None:
        for callback in self.callbacks:
            callback("ep1", "globus", "transfer_status", {"task_id": task_id, "status": status})


def client_with_recorder() -> tuple[GlobusClient, SubscriptionRecorder, list[dict[str, Any]]]:
    broker = SubscriptionRecorder()
    client = GlobusClient(None, "http://broker.invalid", broker, "ep1", "globus")
    seen: list[dict[str, Any]] = []
    client.register_notification_callback(lambda *event: seen.append(event[3]), "transfer_status")
    return client, broker, seen


def test_an_event_before_the_submit_reply_is_delivered_with_the_reply() -> None:
    client, broker, seen = client_with_recorder()
    broker.deliver("task-1", "ACTIVE")
    assert seen == []
    client._submitted({"task_id": "task-1", "submission_id": "s", "status": "ACTIVE"})
    assert seen == [{"task_id": "task-1", "status": "ACTIVE"}]
    broker.deliver("task-1", "SUCCEEDED")
    assert [event["status"] for event in seen] == ["ACTIVE", "SUCCEEDED"]


def test_other_clients_tasks_stay_unseen_and_the_hold_is_bounded() -> None:
    client, broker, seen = client_with_recorder()
    for n in range(EARLY_EVENTS + 10):
        broker.deliver(f"foreign-{n}", "ACTIVE")
    client._submitted({"task_id": "mine", "submission_id": "s", "status": "ACTIVE"})
    assert seen == []
    assert len(client._early) == EARLY_EVENTS
