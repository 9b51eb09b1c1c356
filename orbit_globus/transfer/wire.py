"""Reading request bodies and query strings, and writing error replies, for the routes.

Every malformed input becomes a ``BadRequestError`` (400 with a one-line ``detail``), so
no route answers a 500 or a traceback for something the caller sent.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import JSONResponse

from .errors import BadRequestError, PluginError


async def json_body(request: Any, *, optional: bool = False) -> dict[str, Any]:
    """The JSON object in the body (``{}`` for an empty body when ``optional``)."""
    raw = await request.body()
    if not raw.strip() and optional:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequestError("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequestError("the request body must be a JSON object")
    return body


def text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise BadRequestError(f"missing field: {name}")
        return None
    if not isinstance(value, str):
        raise BadRequestError(f"{name} must be a string")
    return value


def integer(value: Any, name: str, default: int | None) -> int | None:
    """An int from JSON or a query string; ``default`` when absent."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequestError(f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{name} must be an integer") from None


def seconds(value: Any, name: str, default: float) -> float:
    """A positive, finite number of seconds."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequestError(f"{name} must be a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{name} must be a number of seconds") from None
    if not math.isfinite(number) or number <= 0:
        raise BadRequestError(f"{name} must be a positive number of seconds")
    return number


def flag(value: Any, name: str) -> bool | None:
    """A boolean from JSON, or ``true``/``false`` from a query string."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
        return value.lower() in ("1", "true", "yes")
    raise BadRequestError(f"{name} must be true or false")


def error_response(error: PluginError) -> JSONResponse:
    return JSONResponse(error.to_json(), status_code=error.status)
