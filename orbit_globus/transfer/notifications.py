"""The notifications a session sends through radical.orbit (topic and payload).

``transfer_status`` carries radical.orbit's documented payload; ``session_error`` tells the
client once per kind of failure that the background poll is failing (an expired token, a
Globus outage), with the same ``code``/``detail`` an API call would have answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TRANSFER_STATUS = "transfer_status"
SESSION_ERROR = "session_error"

# Fields of a transfer_status notification (radical.orbit's PluginGlobus payload).
STATUS_FIELDS = (
    "task_id",
    "status",
    "label",
    "bytes_transferred",
    "files_transferred",
    "nice_status",
)

Publish = Callable[[str, dict[str, Any]], None]


def transfer_status(task: dict[str, Any]) -> dict[str, Any]:
    """The notification payload for a Transfer task document."""
    return {field: task.get(field) for field in STATUS_FIELDS}
