"""Shaping answers: JSON bodies made by orjson, and the responses every route documents."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from battrace.api.schemas import Error

# every route may answer these, in the one error shape; "default" covers the rest
_ERROR_STATUSES = {
    401: "No token where one is needed, or a bad token",
    403: "The caller may not do or see this",
    404: "Unknown resource or route",
    405: "Method not allowed",
    409: "Conflict: a duplicate, a state-machine rule, an idempotency key reused",
    413: "Body or batch over its limit",
    415: "Unsupported Content-Type",
    422: "Invalid input: the error names the field and the rule",
    500: "Unexpected server error",
    503: "Database unavailable",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": text} for status, text in _ERROR_STATUSES.items()
}


def documented(status: int, model: Any, description: str) -> dict[int | str, Any]:
    """``responses=`` for a route answering ``model`` with ``status``, plus the errors."""
    return {status: {"model": model, "description": description}, **ERROR_RESPONSES}


def json_answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=headers
    )


__all__ = ["ERROR_RESPONSES", "documented", "json_answer"]
