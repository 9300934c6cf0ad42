"""Every error the API answers, in the one JSON shape of :mod:`battrace.errors`.

Platform errors keep their status and ``to_dict`` body; FastAPI's own parameter errors become
``ValidationError`` naming the parameter and the rule; unknown routes and methods become 404
and 405; anything unexpected becomes a 500 with no detail (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from battrace.errors import (
    BattraceError,
    MethodNotAllowed,
    NotFoundError,
    Unauthenticated,
    ValidationError,
)

logger = logging.getLogger("battrace.api")


def error_response(error: BattraceError) -> Response:
    """The JSON answer for ``error`` (401 adds ``WWW-Authenticate: Bearer``)."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
    return Response(
        orjson.dumps(error.to_dict()),
        status_code=error.status,
        media_type="application/json",
        headers=headers,
    )


def parameter_error(exc: RequestValidationError) -> ValidationError:
    """The first problem FastAPI found with a path, query or header parameter."""
    errors: list[dict[str, Any]] = list(exc.errors())
    if not errors:
        return ValidationError("request: invalid", field="request", rule="invalid")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("path", "query", "header", "body")]
    field = ".".join(loc) or "request"
    message = str(first.get("msg", "invalid"))
    return ValidationError(f"{field}: {message}", field=field, rule=str(first.get("type", "")))


async def _battrace_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BattraceError)
    return error_response(exc)


async def _parameter_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(parameter_error(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: BattraceError
    if exc.status_code == 404:
        error = NotFoundError(
            f"path: no route {request.url.path}", field="path", rule="known_route"
        )
    elif exc.status_code == 405:
        error = MethodNotAllowed(
            f"method: {request.method} is not allowed on {request.url.path}",
            field="method",
            rule="allowed_method",
        )
    else:
        error = BattraceError(str(exc.detail))
        error.status = exc.status_code
        error.code = "http_error"
    response = error_response(error)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def unexpected_response(method: str, path: str, exc: BaseException) -> Response:
    """The 500 answer for an error nobody expected (its traceback goes to the log only)."""
    logger.error("unexpected error on %s %s", method, path, exc_info=exc)
    return error_response(BattraceError("internal error; the server log has the details"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_response(request.method, request.url.path, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Make every error answer of ``app`` the one JSON shape."""
    app.add_exception_handler(BattraceError, _battrace_error)
    app.add_exception_handler(RequestValidationError, _parameter_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


__all__ = ["error_response", "install_error_handlers", "parameter_error", "unexpected_response"]
