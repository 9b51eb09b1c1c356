"""A per-session, sequence-numbered notification log read by long-polling.

Each session owns one log, so a client only ever reads its own session's events. Events
carry increasing sequence numbers; a reader asks for everything after the last number it
saw, which makes delivery lossless across reconnects (up to the retained window) and keeps
the order the poller produced.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

TRANSFER_STATUS = "transfer_status"
SESSION_ERROR = "session_error"
SESSION_CLOSED = "session_closed"

# Fields of a transfer_status notification (the orbit plugin's documented payload).
STATUS_FIELDS = (
    "task_id",
    "status",
    "label",
    "bytes_transferred",
    "files_transferred",
    "nice_status",
)


def transfer_status(task: dict[str, Any]) -> dict[str, Any]:
    """The notification payload for a Transfer task document."""
    return {field: task.get(field) for field in STATUS_FIELDS}


class NotificationLog:
    """Append-only, bounded, awaitable list of ``{seq, topic, data}`` events."""

    def __init__(self, retain: int = 10_000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=retain)
        self._next_seq = 1
        self._changed = asyncio.Condition()
        self.closed = False

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        async with self._changed:
            self._events.append({"seq": self._next_seq, "topic": topic, "data": data})
            self._next_seq += 1
            self._changed.notify_all()

    async def close(self) -> None:
        await self.publish(SESSION_CLOSED, {})
        async with self._changed:
            self.closed = True
            self._changed.notify_all()

    def after(self, seq: int) -> list[dict[str, Any]]:
        return [event for event in self._events if event["seq"] > seq]

    async def wait_after(self, seq: int, timeout: float) -> list[dict[str, Any]]:
        """Events newer than ``seq``, waiting up to ``timeout`` seconds for the first."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.last_seq > seq or self.closed),
                    timeout,
                )
            except TimeoutError:
                return []
            return self.after(seq)
